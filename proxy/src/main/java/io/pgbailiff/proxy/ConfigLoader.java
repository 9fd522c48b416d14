package io.pgbailiff.proxy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Builds a {@link Config} from defaults &lt; environment variables &lt; command-line flags.
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
                           BiConsumer<Config.Builder, String> apply) {
    }

    private static final List<Setting> SETTINGS = List.of(
            new Setting("--listen", "PGBAILIFF_LISTEN", "HOST:PORT", "address clients connect to",
                    (c, v) -> c.listen = Config.HostPort.parse(v, "0.0.0.0")),
            new Setting("--backend", "PGBAILIFF_BACKEND", "HOST:PORT", "the PostgreSQL server to forward to",
                    (c, v) -> c.backend = Config.HostPort.parse(v, "127.0.0.1")),
            new Setting("--node-id", "PGBAILIFF_NODE_ID", "N", "this node's id (1-4294967295), part of every session id",
                    (c, v) -> c.nodeId = parseNodeId(v)),
            new Setting("--connect-timeout", "PGBAILIFF_CONNECT_TIMEOUT", "DURATION",
                    "how long to wait for the backend to accept a connection (e.g. 5s, 500ms)",
                    (c, v) -> c.connectTimeout = parseDuration(v)),
            new Setting("--max-message-size", "PGBAILIFF_MAX_MESSAGE_SIZE", "BYTES",
                    "largest message accepted from a client",
                    (c, v) -> c.maxMessageSize = parseSize(v)),
            new Setting("--admin-roles", "PGBAILIFF_ADMIN_ROLES", "ROLE,...",
                    "members of these roles see and cancel every session but a superuser's",
                    (c, v) -> c.adminRoles = parseRoles(v)),
            new Setting("--embedded-backend", "PGBAILIFF_EMBEDDED_BACKEND", null,
                    "start a throwaway PostgreSQL and forward to it (for trying pgbailiff out)",
                    (c, v) -> c.embeddedBackend = parseBoolean(v)));

    private ConfigLoader() {
    }

    /** The settings from the environment and the flags; {@code --help} is handled by the caller. */
    public static Config load(List<String> args, Map<String, String> env) {
        Config.Builder config = new Config.Builder();
        for (Setting s : SETTINGS) {
            String v = env.get(s.env);
            if (v != null && !v.isEmpty()) {
                apply(config, s, v, s.env);
            }
        }
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            Setting s = find(name);
            if (s.valueName == null) {
                apply(config, s, value == null ? "true" : value, name);
                continue;
            }
            if (value == null) {
                if (i + 1 >= args.size()) {
                    throw new InvalidSettingException(name + ": missing value " + s.valueName);
                }
                value = args.get(++i);
            }
            apply(config, s, value, name);
        }
        return config.build();
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
                Settings come from defaults, then environment variables, then these flags.

                """);
        Config d = Config.defaults();
        for (Setting s : SETTINGS) {
            String flag = s.flag + (s.valueName == null ? "" : " " + s.valueName);
            sb.append(String.format("  %-32s %s%n", flag, s.help));
            sb.append(String.format("  %-32s env %s, default %s%n", "", s.env, defaultOf(s, d)));
        }
        sb.append(String.format("  %-32s %s%n", "--help", "print this help and exit"));
        return sb.toString();
    }

    private static String defaultOf(Setting s, Config d) {
        return switch (s.flag) {
            case "--listen" -> d.listen().toString();
            case "--backend" -> d.backend().toString();
            case "--node-id" -> Integer.toUnsignedString(d.nodeId());
            case "--connect-timeout" -> d.connectTimeout().toMillis() + "ms";
            case "--max-message-size" -> Integer.toString(d.maxMessageSize());
            case "--embedded-backend" -> Boolean.toString(d.embeddedBackend());
            case "--admin-roles" -> d.adminRoles().isEmpty() ? "none" : String.join(",", d.adminRoles());
            default -> "";
        };
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

    static Duration parseDuration(String v) {
        String s = v.trim().toLowerCase();
        try {
            if (s.endsWith("ms")) {
                return positive(Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2))), v);
            }
            if (s.endsWith("s")) {
                return positive(Duration.ofMillis((long) (Double.parseDouble(s.substring(0, s.length() - 1)) * 1000)), v);
            }
            if (s.endsWith("m")) {
                return positive(Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)) * 60), v);
            }
            return positive(Duration.ofMillis(Long.parseLong(s)), v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a duration: '" + v + "' (use e.g. 5s or 500ms)");
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

    static boolean parseBoolean(String v) {
        return switch (v.trim().toLowerCase()) {
            case "true", "on", "yes", "1" -> true;
            case "false", "off", "no", "0" -> false;
            default -> throw new IllegalArgumentException("expected true or false, got '" + v + "'");
        };
    }
}
