package io.pgbailiff.it;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.containers.output.Slf4jLogConsumer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The container image as users get it: built from the repository's {@code Dockerfile}, configured
 * by environment variables only, in front of the official {@code postgres:17} image on a Docker
 * network, with real pgjdbc connections through the published port.
 *
 * <p>Needs a Docker engine; where there is none the class is reported as skipped. The image is
 * built once per run and kept as {@value #IMAGE}, so that the next build reuses its Maven
 * dependency layer instead of downloading every dependency again.
 */
@Testcontainers(disabledWithoutDocker = true)
class DockerImageIT {
    private static final String IMAGE = "pgbailiff:it";
    private static final int PG_PORT = 6432;
    private static final int HTTP_PORT = 9187;
    private static final String NODE_ID = "7";
    private static final Duration HEALTHY_WITHIN = Duration.ofSeconds(90);

    private static final Network network = Network.newNetwork();

    @Container
    private static final PostgreSQLContainer<?> postgres = new PostgreSQLContainer<>("postgres:17")
            .withNetwork(network)
            .withNetworkAliases("db");

    @Container
    private static final GenericContainer<?> pgbailiff = new GenericContainer<>(
            new ImageFromDockerfile(IMAGE, false).withDockerfile(repositoryRoot().resolve("Dockerfile")))
            .withNetwork(network)
            .dependsOn(postgres)
            .withEnv("PGBAILIFF_BACKEND", "db:5432")
            .withEnv("PGBAILIFF_NODE_ID", NODE_ID)
            .withExposedPorts(PG_PORT, HTTP_PORT)
            .withLogConsumer(new Slf4jLogConsumer(LoggerFactory.getLogger("io.pgbailiff.it.container")))
            .waitingFor(Wait.forHttp("/health").forPort(HTTP_PORT).forStatusCode(200)
                    .withStartupTimeout(Duration.ofMinutes(2)));

    @Test
    void relaysQueries() throws SQLException {
        try (Connection c = connect("docker-relay"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select 42")) {
            assertTrue(rs.next());
            assertEquals(42, rs.getInt(1));
        }
    }

    @Test
    void showSessionsListsTheCallerWithTheNodeIdFromTheEnvironment() throws SQLException {
        try (Connection c = connect("docker-show"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW SESSIONS")) {
            boolean own = false;
            while (rs.next()) {
                if ("docker-show".equals(rs.getString("application_name"))) {
                    own = true;
                    assertEquals(postgres.getUsername(), rs.getString("user_name"));
                    assertEquals(postgres.getDatabaseName(), rs.getString("database_name"));
                    assertEquals("SHOW SESSIONS", rs.getString("active_queries"));
                    assertEquals(NODE_ID, rs.getString("node_id"));
                }
            }
            assertTrue(own, "the caller's own session is listed");
        }
    }

    @Test
    void readyAndMetricsOnThePublishedHttpPort() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> ready = http.send(get("/ready"), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode(), "the backend is reachable: " + ready.body());
        HttpResponse<String> metrics = http.send(get("/metrics"), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("pgbailiff_"), "Prometheus text with pgbailiff's metrics");
    }

    @Test
    void runsAsTheUnprivilegedUser() throws Exception {
        ExecResult id = pgbailiff.execInContainer("id", "-u");
        assertEquals(0, id.getExitCode(), id.getStderr());
        assertEquals("10001", id.getStdout().strip());
    }

    @Test
    void dockerHealthCheckReportsHealthy() throws Exception {
        // the image's HEALTHCHECK runs every 10 seconds; the first result takes that long
        long deadline = System.nanoTime() + HEALTHY_WITHIN.toNanos();
        String status;
        do {
            var health = pgbailiff.getDockerClient().inspectContainerCmd(pgbailiff.getContainerId()).exec()
                    .getState().getHealth();
            status = health == null ? "none" : health.getStatus();
            if ("healthy".equals(status) || "unhealthy".equals(status)) {
                break;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        assertEquals("healthy", status);
    }

    private static Connection connect(String applicationName) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", postgres.getUsername());
        p.setProperty("password", postgres.getPassword());
        p.setProperty("ApplicationName", applicationName);
        String url = "jdbc:postgresql://" + pgbailiff.getHost() + ":" + pgbailiff.getMappedPort(PG_PORT)
                + "/" + postgres.getDatabaseName();
        return DriverManager.getConnection(url, p);
    }

    private static HttpRequest get(String path) {
        return HttpRequest.newBuilder(URI.create("http://" + pgbailiff.getHost() + ":" + pgbailiff.getMappedPort(HTTP_PORT) + path))
                .timeout(Duration.ofSeconds(10))
                .GET()
                .build();
    }

    /** The directory holding the Dockerfile: the tests run in {@code integration-tests/}, one level below. */
    private static Path repositoryRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("Dockerfile")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no Dockerfile in " + Path.of("").toAbsolutePath() + " or above");
    }
}
