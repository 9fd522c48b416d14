# pgbailiff as a container: the shaded jar on a JRE, run as an unprivileged user, configured
# entirely by PGBAILIFF_* environment variables (`java -jar pgbailiff.jar --help` lists them).
#
#   docker build -t pgbailiff .
#   docker run -p 6432:6432 -p 9187:9187 -e PGBAILIFF_BACKEND=db.example.internal:5432 pgbailiff
#
# Works with the classic builder as well as BuildKit (no RUN --mount, COPY --chmod or heredocs).

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src

# The poms alone first, so the dependency layer is rebuilt only when a pom changes. Packaging the
# modules before their sources are there resolves every dependency and plugin the real build uses;
# dependency:go-offline cannot, as it fails on the modules' dependencies on each other. Every
# module the parent pom lists must be present for Maven to read the reactor, integration-tests too.
COPY pom.xml ./
COPY protocol/pom.xml protocol/
COPY admin-sql/pom.xml admin-sql/
COPY proxy/pom.xml proxy/
COPY integration-tests/pom.xml integration-tests/
RUN mvn -B -q -pl proxy -am -DskipTests package

COPY protocol/src protocol/src
COPY admin-sql/src admin-sql/src
COPY proxy/src proxy/src
RUN mvn -B -q -pl proxy -am -DskipTests package


FROM eclipse-temurin:17-jre

LABEL org.opencontainers.image.title="pgbailiff" \
      org.opencontainers.image.description="PostgreSQL wire-protocol proxy that sees and stops what runs on a database"

# A fixed uid/gid, so volume permissions and Kubernetes' runAsNonRoot/runAsUser can rely on it.
RUN groupadd --gid 10001 pgbailiff \
 && useradd --uid 10001 --gid 10001 --no-log-init --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin pgbailiff

WORKDIR /opt/pgbailiff
COPY --from=build /src/proxy/target/pgbailiff.jar /opt/pgbailiff/pgbailiff.jar
COPY docker/healthcheck.sh /opt/pgbailiff/healthcheck.sh

# Inside a container the proxy must listen on every interface to be reachable through published
# ports; on a host the defaults stay on 127.0.0.1.
ENV PGBAILIFF_LISTEN=0.0.0.0:6432 \
    PGBAILIFF_HTTP=0.0.0.0:9187

# 6432: PostgreSQL clients; 9187: GET /metrics, /health, /ready
EXPOSE 6432 9187

USER 10001:10001

# The image has no curl or wget; the script asks /health with bash alone. It follows PGBAILIFF_HTTP.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["bash", "/opt/pgbailiff/healthcheck.sh"]

# Exec form, so java is PID 1 and receives SIGTERM itself: pgbailiff then stops accepting, lets
# running statements finish for PGBAILIFF_DRAIN_TIMEOUT (30s by default) and ends the sessions.
# Give the container a stop timeout above that (docker run --stop-timeout, compose
# stop_grace_period, Kubernetes terminationGracePeriodSeconds); Docker's default is 10s.
#
# Half the container's memory for the heap: Netty's direct buffers (the relay's) may by default
# grow as large as the heap, and both must fit under the container's limit. Add or override JVM
# options with JAVA_TOOL_OPTIONS. Out of memory ends the process so that the container restarts.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=50", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/pgbailiff/pgbailiff.jar"]
