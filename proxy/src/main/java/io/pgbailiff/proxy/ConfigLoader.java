package io.pgbailiff.proxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Builds a {@link Config} from defaults &lt; config file &lt; environment variables &lt; command-line flags.
 * Every setting is declared once in {@link #SETTINGS}, which also produces {@code --help}.
 */
public final class ConfigLoader {

    /** A setting that could not be applied; its message names the setting and the reason. */
    public static final class InvalidSettingException extends RuntimeException {
        public InvalidSettingException(String message) {
            super(message);
        }
    }

    private record Setting(String flag, String env, String valueName, String help,
                           BiConsumer<Config.Builder, String> apply, Function<Config, String> shownDefault) {
        String key() {
            return flag.substring(2);
        }
    }

    private static final String CONFIG_FLAG = "--config";
    private static final String CONFIG_ENV = "PGBAILIFF_CONFIG";

    private static final List<Setting> SETTINGS = List.of(
            new Setting("--listen", "PGBAILIFF_LISTEN", "HOST:PORT", "address clients connect to",
                    (c, v) -> c.listen = parseListenAddress(v, "a Unix-domain socket for clients is set with --unix-socket-dir"), d -> d.listen().toString()),
            new Setting("--unix-socket-dir", "PGBAILIFF_UNIX_SOCKET_DIR", "DIR|off",
                    "also accept clients on the Unix-domain socket DIR/.s.PGSQL.<listen port>",
                    (c, v) -> c.unixSocketDir = parseSocketDirectory(v), d -> "off"),
            new Setting("--backend", "PGBAILIFF_BACKEND", "HOST:PORT|/DIR[:PORT]",
                    "the PostgreSQL server to forward to; /DIR: over its Unix-domain socket in that directory",
                    (c, v) -> c.backend = Config.HostPort.parse(v, "127.0.0.1"), d -> d.backend().toString()),
            new Setting("--node-id", "PGBAILIFF_NODE_ID", "N", "this node's id (1-4294967295), part of every session id",
                    (c, v) -> c.nodeId = parseNodeId(v), d -> Integer.toUnsignedString(d.nodeId())),
            new Setting("--admin-roles", "PGBAILIFF_ADMIN_ROLES", "ROLE,...",
                    "members of these roles see and cancel every session but a superuser's",
                    (c, v) -> c.adminRoles = parseRoles(v),
                    d -> d.adminRoles().isEmpty() ? "none" : String.join(",", d.adminRoles())),
            new Setting("--http", "PGBAILIFF_HTTP", "HOST:PORT|off", "where GET /metrics, /health and /ready are served",
                    (c, v) -> c.http = "off".equalsIgnoreCase(v.trim()) ? null
                            : parseListenAddress(v, "the HTTP endpoints are served over TCP only"),
                    d -> d.http() == null ? "off" : d.http().toString()),
            new Setting("--tls-cert", "PGBAILIFF_TLS_CERT", "FILE", "PEM certificate chain for TLS with clients",
                    (c, v) -> c.tlsCert = parsePath(v), d -> "none (TLS refused)"),
            new Setting("--tls-key", "PGBAILIFF_TLS_KEY", "FILE", "PEM private key (PKCS#8) of --tls-cert",
                    (c, v) -> c.tlsKey = parsePath(v), d -> "none"),
            new Setting("--tls-require", "PGBAILIFF_TLS_REQUIRE", null, "refuse clients that do not use TLS",
                    (c, v) -> c.tlsRequire = parseBoolean(v), d -> Boolean.toString(d.tlsRequire())),
            new Setting("--backend-tls", "PGBAILIFF_BACKEND_TLS", "MODE",
                    "TLS to the backend: disable, prefer, require, verify-ca or verify-full",
                    (c, v) -> c.backendTls = parseBackendTls(v), d -> d.backendTls().setting()),
            new Setting("--backend-tls-ca", "PGBAILIFF_BACKEND_TLS_CA", "FILE",
                    "PEM CA certificates for verify-ca and verify-full",
                    (c, v) -> c.backendTlsCa = parsePath(v), d -> "the JVM's trusted CAs"),
            new Setting("--max-client-connections", "PGBAILIFF_MAX_CLIENT_CONNECTIONS", "N",
                    "client connections open at once; more are refused with 53300",
                    (c, v) -> c.maxClientConnections = parsePositiveInt(v), d -> Integer.toString(d.maxClientConnections())),
            new Setting("--connect-timeout", "PGBAILIFF_CONNECT_TIMEOUT", "DURATION",
                    "how long to wait for the backend to accept a connection (e.g. 5s, 500ms)",
                    (c, v) -> c.connectTimeout = parseDuration(v), d -> show(d.connectTimeout())),
            new Setting("--startup-timeout", "PGBAILIFF_STARTUP_TIMEOUT", "DURATION",
                    "how long a client may take from connecting to being authenticated",
                    (c, v) -> c.startupTimeout = parseDuration(v), d -> show(d.startupTimeout())),
            new Setting("--idle-in-transaction-timeout", "PGBAILIFF_IDLE_IN_TRANSACTION_TIMEOUT", "DURATION|off",
                    "end sessions idle inside a transaction this long (25P03)",
                    (c, v) -> c.idleInTransactionTimeout = parseOptionalDuration(v), d -> show(d.idleInTransactionTimeout())),
            new Setting("--idle-session-timeout", "PGBAILIFF_IDLE_SESSION_TIMEOUT", "DURATION|off",
                    "end sessions idle outside a transaction this long (57P05)",
                    (c, v) -> c.idleSessionTimeout = parseOptionalDuration(v), d -> show(d.idleSessionTimeout())),
            new Setting("--drain-timeout", "PGBAILIFF_DRAIN_TIMEOUT", "DURATION",
                    "on SIGTERM, how long running statements get to finish before sessions are ended",
                    (c, v) -> c.drainTimeout = parseDuration(v), d -> show(d.drainTimeout())),
            new Setting("--threads", "PGBAILIFF_THREADS", "N",
                    "event-loop threads serving all connections",
                    (c, v) -> c.threads = parsePositiveInt(v), d -> d.threads() + " (half the CPUs)"),
            new Setting("--max-message-size", "PGBAILIFF_MAX_MESSAGE_SIZE", "BYTES",
                    "largest message accepted from a client",
                    (c, v) -> c.maxMessageSize = parseSize(v), d -> Integer.toString(d.maxMessageSize())),
            new Setting("--log-format", "PGBAILIFF_LOG_FORMAT", "text|json", "console log lines as text or JSON",
                    (c, v) -> c.logFormat = parseLogFormat(v), d -> d.logFormat().name().toLowerCase(Locale.ROOT)),
            new Setting("--log-level", "PGBAILIFF_LOG_LEVEL", "[LOGGER=]LEVEL,...",
                    "log levels, e.g. debug or io.pgbailiff.audit=warn,root=info",
                    (c, v) -> c.logLevels = parseLogLevels(v), d -> "root=info"),
            new Setting("--embedded-backend", "PGBAILIFF_EMBEDDED_BACKEND", null,
                    "start a throwaway PostgreSQL and forward to it (for trying pgbailiff out)",
                    (c, v) -> c.embeddedBackend = parseBoolean(v), d -> Boolean.toString(d.embeddedBackend())));

    private ConfigLoader() {
    }

    /**
     * The settings from a config file ({@code --config} or {@code PGBAILIFF_CONFIG}), the
     * environment and the flags; {@code --help} is handled by the caller.
     */
    public static Config load(List<String> args, Map<String, String> env) {
        List<Map.Entry<String, String>> flags = parseFlags(args);
        Config.Builder config = new Config.Builder();
        String file = env.get(CONFIG_ENV);
        for (Map.Entry<String, String> flag : flags) {
            if (flag.getKey().equals(CONFIG_FLAG)) {
                file = flag.getValue();
            }
        }
        if (file != null && !file.isBlank()) {
            applyFile(config, Path.of(file.trim()));
        }
        for (Setting s : SETTINGS) {
            String v = env.get(s.env);
            if (v != null && !v.isEmpty()) {
                apply(config, s, v, s.env);
            }
        }
        for (Map.Entry<String, String> flag : flags) {
            if (!flag.getKey().equals(CONFIG_FLAG)) {
                apply(config, find(flag.getKey()), flag.getValue(), flag.getKey());
            }
        }
        return validate(config.build());
    }

    /** Flags as (name, value) pairs; a switch without a value reads as {@code true}. */
    private static List<Map.Entry<String, String>> parseFlags(List<String> args) {
        List<Map.Entry<String, String>> flags = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            String valueName = name.equals(CONFIG_FLAG) ? "FILE" : find(name).valueName;
            if (valueName == null) {
                value = value == null ? "true" : value;
            } else if (value == null) {
                if (i + 1 >= args.size()) {
                    throw new InvalidSettingException(name + ": missing value " + valueName);
                }
                value = args.get(++i);
            }
            flags.add(Map.entry(name, value));
        }
        return flags;
    }

    /**
     * Reads {@code key = value} (or {@code key: value}) lines, keys being the flag names without
     * their dashes; {@code #} starts a comment. Flat YAML files read the same way.
     */
    private static void applyFile(Config.Builder config, Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new InvalidSettingException(CONFIG_FLAG + ": cannot read " + file + ": " + describe(e));
        }
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#") || line.equals("---")) {
                continue;
            }
            int sep = separator(line);
            String where = file + " line " + (n + 1);
            if (sep < 0) {
                throw new InvalidSettingException(where + ": expected 'setting = value', got '" + line + "'");
            }
            String key = line.substring(0, sep).strip();
            String value = unquote(line.substring(sep + 1).strip());
            Setting setting = SETTINGS.stream().filter(s -> s.key().equals(key)).findFirst()
                    .orElseThrow(() -> new InvalidSettingException(where + ": unknown setting '" + key + "' (see --help)"));
            apply(config, setting, value, where + ": " + key);
        }
    }

    private static Config.HostPort parseListenAddress(String v, String socketAdvice) {
        Config.HostPort address = Config.HostPort.parse(v, "0.0.0.0");
        if (address.isSocketDirectory()) {
            throw new IllegalArgumentException("expected host:port, not a directory; " + socketAdvice);
        }
        return address;
    }

    /**
     * An absolute directory, as psql's {@code -h} names it, whose socket path fits in
     * {@code sockaddr_un}; {@code off} or empty for none.
     */
    private static Path parseSocketDirectory(String v) {
        String dir = v.trim();
        if (dir.isEmpty() || dir.equalsIgnoreCase("off")) {
            return null;
        }
        if (!dir.startsWith("/")) {
            throw new IllegalArgumentException("expected an absolute directory (as psql -h takes it) or off, got '" + dir + "'");
        }
        Path path = Path.of(dir);
        int length = path.resolve(Config.socketFileName(65535)).toString().getBytes(StandardCharsets.UTF_8).length;
        if (length > MAX_SOCKET_PATH_BYTES) {
            throw new IllegalArgumentException("the socket's path would be " + length + " bytes long; Linux allows "
                    + MAX_SOCKET_PATH_BYTES);
        }
        return path;
    }

    /** {@code sun_path} holds 108 bytes, the last of them the terminating zero. */
    private static final int MAX_SOCKET_PATH_BYTES = 107;

    private static int separator(String line) {
        int eq = line.indexOf('=');
        int colon = line.indexOf(':');
        if (eq < 0) {
            return colon;
        }
        return colon < 0 ? eq : Math.min(eq, colon);
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }

    /** Checks between settings, each failure naming the setting to fix. */
    private static Config validate(Config c) {
        if ((c.tlsCert() == null) != (c.tlsKey() == null)) {
            throw new InvalidSettingException(c.tlsCert() == null ? "--tls-key: needs --tls-cert as well"
                    : "--tls-cert: needs --tls-key as well");
        }
        if (c.tlsRequire() && c.tlsCert() == null) {
            throw new InvalidSettingException("--tls-require: needs --tls-cert and --tls-key");
        }
        requireReadable("--tls-cert", c.tlsCert());
        requireReadable("--tls-key", c.tlsKey());
        requireReadable("--backend-tls-ca", c.backendTlsCa());
        if (c.unixSocketDir() != null && !Files.isDirectory(c.unixSocketDir())) {
            throw new InvalidSettingException("--unix-socket-dir: not a directory: " + c.unixSocketDir());
        }
        if (c.backendTlsCa() != null && !c.backendTls().verifiesCertificate()) {
            throw new InvalidSettingException("--backend-tls-ca: only used with --backend-tls verify-ca or verify-full, not "
                    + c.backendTls().setting());
        }
        return c;
    }

    private static void requireReadable(String flag, Path file) {
        if (file != null && !Files.isReadable(file)) {
            throw new InvalidSettingException(flag + ": cannot read " + file);
        }
    }

    private static Setting find(String flag) {
        for (Setting s : SETTINGS) {
            if (s.flag.equals(flag)) {
                return s;
            }
        }
        throw new InvalidSettingException("unknown option " + flag + " (see --help)");
    }

    private static void apply(Config.Builder config, Setting s, String value, String source) {
        try {
            s.apply.accept(config, value);
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingException(source + ": " + e.getMessage());
        }
    }

    public static String help() {
        StringBuilder sb = new StringBuilder("""
                Usage: java -jar pgbailiff.jar [options]

                pgbailiff: a PostgreSQL proxy that shows and stops the sessions running through it.
                Settings come from defaults, then the config file, then environment variables, then
                these flags. In the config file, write each as 'setting = value' with the flag's name
                without dashes, e.g. 'backend = db.internal:5432'.

                """);
        Config d = Config.defaults();
        sb.append(String.format("  %-36s %s%n", CONFIG_FLAG + " FILE", "read settings from this file"));
        sb.append(String.format("  %-36s env %s, default none%n", "", CONFIG_ENV));
        for (Setting s : SETTINGS) {
            String flag = s.flag + (s.valueName == null ? "" : " " + s.valueName);
            sb.append(String.format("  %-36s %s%n", flag, s.help));
            sb.append(String.format("  %-36s env %s, default %s%n", "", s.env, s.shownDefault.apply(d)));
        }
        sb.append(String.format("  %-36s %s%n", "--help", "print this help and exit"));
        return sb.toString();
    }

    /** A duration as the settings take it: {@code 30s}, {@code 250ms}, {@code off}. */
    static String show(Duration d) {
        if (d == null) {
            return "off";
        }
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static String describe(IOException e) {
        return e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage();
    }

    static int parseNodeId(String v) {
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number: '" + v + "'");
        }
        if (n < 1 || n > 0xffffffffL) {
            throw new IllegalArgumentException("must be between 1 and 4294967295, got " + v);
        }
        return (int) n;
    }

    /**
     * A number with PostgreSQL's time units ({@code ms}, {@code s}, {@code min} or {@code m},
     * {@code h}, {@code d}); a bare number is milliseconds, as in PostgreSQL's timeout settings.
     */
    static Duration parseDuration(String v) {
        return positive(duration(v), v);
    }

    private static Duration duration(String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        int unit = s.startsWith("-") ? 1 : 0;
        while (unit < s.length() && (Character.isDigit(s.charAt(unit)) || s.charAt(unit) == '.')) {
            unit++;
        }
        try {
            double n = Double.parseDouble(s.substring(0, unit));
            double millis = switch (s.substring(unit).strip()) {
                case "", "ms" -> n;
                case "s" -> n * 1_000;
                case "m", "min" -> n * 60_000;
                case "h" -> n * 3_600_000;
                case "d" -> n * 86_400_000;
                default -> throw new NumberFormatException();
            };
            return Duration.ofMillis(Math.round(millis));
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("not a duration: '" + v + "' (use e.g. 500ms, 5s, 2min, 1h)");
        }
    }

    private static Duration positive(Duration d, String v) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("must be greater than zero, got '" + v + "'");
        }
        return d;
    }

    static int parseSize(String v) {
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number of bytes: '" + v + "'");
        }
        if (n < 1024 || n > Config.DEFAULT_MAX_MESSAGE_SIZE) {
            throw new IllegalArgumentException("must be between 1024 and " + Config.DEFAULT_MAX_MESSAGE_SIZE + ", got " + v);
        }
        return (int) n;
    }

    static List<String> parseRoles(String v) {
        List<String> roles = new java.util.ArrayList<>();
        for (String r : v.split(",")) {
            String role = r.trim();
            if (role.isEmpty()) {
                continue;
            }
            if (!role.matches("[A-Za-z_][A-Za-z0-9_$]*")) {
                throw new IllegalArgumentException("not a plain role name: '" + role + "'");
            }
            roles.add(role);
        }
        return roles;
    }

    /** A duration, or none for {@code off} or zero, as PostgreSQL's 0 turns its idle timeouts off. */
    static Duration parseOptionalDuration(String v) {
        if (v.trim().equalsIgnoreCase("off")) {
            return null;
        }
        Duration d = duration(v);
        return d.isZero() ? null : positive(d, v);
    }

    static int parsePositiveInt(String v) {
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 1) {
                throw new IllegalArgumentException("must be at least 1, got " + v);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number: '" + v + "'");
        }
    }

    static Path parsePath(String v) {
        if (v.isBlank()) {
            throw new IllegalArgumentException("empty file name");
        }
        return Path.of(v.trim());
    }

    static Config.BackendTls parseBackendTls(String v) {
        for (Config.BackendTls mode : Config.BackendTls.values()) {
            if (mode.setting().equals(v.trim().toLowerCase(Locale.ROOT))) {
                return mode;
            }
        }
        throw new IllegalArgumentException("expected disable, prefer, require, verify-ca or verify-full, got '" + v + "'");
    }

    static Config.LogFormat parseLogFormat(String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "text" -> Config.LogFormat.TEXT;
            case "json" -> Config.LogFormat.JSON;
            default -> throw new IllegalArgumentException("expected text or json, got '" + v + "'");
        };
    }

    private static final List<String> LOG_LEVELS = List.of("trace", "debug", "info", "warn", "error", "off");

    /** {@code debug} sets the root logger; {@code name=level} sets one logger. */
    static Map<String, String> parseLogLevels(String v) {
        Map<String, String> levels = new java.util.LinkedHashMap<>();
        for (String part : v.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            String logger = eq < 0 ? "root" : p.substring(0, eq).trim();
            String level = (eq < 0 ? p : p.substring(eq + 1)).trim().toLowerCase(Locale.ROOT);
            if (!LOG_LEVELS.contains(level)) {
                throw new IllegalArgumentException("unknown level '" + level + "' (use trace, debug, info, warn, error or off)");
            }
            if (logger.isEmpty()) {
                throw new IllegalArgumentException("missing logger name before '=" + level + "'");
            }
            levels.put(logger, level);
        }
        return levels;
    }

    static boolean parseBoolean(String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "on", "yes", "1" -> true;
            case "false", "off", "no", "0" -> false;
            default -> throw new IllegalArgumentException("expected true or false, got '" + v + "'");
        };
    }
}
