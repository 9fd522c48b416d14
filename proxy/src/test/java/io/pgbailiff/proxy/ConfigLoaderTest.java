package io.pgbailiff.proxy;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

    @Test
    void defaults() {
        Config c = ConfigLoader.load(List.of(), Map.of());
        assertEquals(new Config.HostPort("127.0.0.1", 6432), c.listen());
        assertEquals(new Config.HostPort("127.0.0.1", 5432), c.backend());
        assertEquals(1, c.nodeId());
        assertEquals(Duration.ofSeconds(5), c.connectTimeout());
    }

    @Test
    void flagsOverrideEnvironmentWhichOverridesDefaults() {
        Map<String, String> env = Map.of("PGBAILIFF_BACKEND", "db:5433", "PGBAILIFF_NODE_ID", "3",
                "PGBAILIFF_CONNECT_TIMEOUT", "2s");
        Config fromEnv = ConfigLoader.load(List.of(), env);
        assertEquals(new Config.HostPort("db", 5433), fromEnv.backend());
        assertEquals(3, fromEnv.nodeId());
        assertEquals(Duration.ofSeconds(2), fromEnv.connectTimeout());

        Config flags = ConfigLoader.load(List.of("--backend", "other:6000", "--node-id=9", "--connect-timeout", "250ms",
                "--listen", ":7000"), env);
        assertEquals(new Config.HostPort("other", 6000), flags.backend());
        assertEquals(9, flags.nodeId());
        assertEquals(Duration.ofMillis(250), flags.connectTimeout());
        assertEquals(new Config.HostPort("0.0.0.0", 7000), flags.listen());
    }

    @Test
    void nodeIdsUpToThirtyTwoBitsUnsigned() {
        assertEquals(0xffffffffL, Integer.toUnsignedLong(ConfigLoader.load(List.of("--node-id", "4294967295"), Map.of()).nodeId()));
    }

    @Test
    void adminRolesAreAList() {
        assertEquals(List.of("ops", "dba"), ConfigLoader.load(List.of("--admin-roles", "ops, dba"), Map.of()).adminRoles());
        assertEquals(List.of(), ConfigLoader.load(List.of(), Map.of()).adminRoles());
        assertMessage("--admin-roles: not a plain role name: 'x;drop'", "--admin-roles", "ops,x;drop");
    }

    @Test
    void embeddedBackendIsASwitch() {
        assertTrue(ConfigLoader.load(List.of("--embedded-backend"), Map.of()).embeddedBackend());
        assertTrue(ConfigLoader.load(List.of(), Map.of("PGBAILIFF_EMBEDDED_BACKEND", "true")).embeddedBackend());
    }

    @Test
    void invalidSettingsNameTheSettingAndTheReason() {
        assertMessage("--node-id: must be between 1 and 4294967295, got 0", "--node-id", "0");
        assertMessage("--node-id: not a number: 'x'", "--node-id", "x");
        assertMessage("--backend: expected host:port, got 'nohost'", "--backend", "nohost");
        assertMessage("--listen: port out of range in ':70000'", "--listen", ":70000");
        assertMessage("--connect-timeout: not a duration: 'soon' (use e.g. 5s or 500ms)", "--connect-timeout", "soon");
        assertMessage("--connect-timeout: must be greater than zero, got '0s'", "--connect-timeout", "0s");
        assertMessage("unknown option --frobnicate (see --help)", "--frobnicate");
        assertMessage("--backend: missing value HOST:PORT", "--backend");
        var e = assertThrows(ConfigLoader.InvalidSettingException.class,
                () -> ConfigLoader.load(List.of(), Map.of("PGBAILIFF_NODE_ID", "-1")));
        assertEquals("PGBAILIFF_NODE_ID: must be between 1 and 4294967295, got -1", e.getMessage());
    }

    @Test
    void helpListsEverySettingWithItsEnvironmentNameAndDefault() {
        String help = ConfigLoader.help();
        for (String s : List.of("--listen", "PGBAILIFF_LISTEN", "127.0.0.1:6432", "--backend", "PGBAILIFF_BACKEND",
                "--node-id", "PGBAILIFF_NODE_ID", "--connect-timeout", "PGBAILIFF_CONNECT_TIMEOUT", "5000ms",
                "--embedded-backend", "--max-message-size", "--help")) {
            assertTrue(help.contains(s), "help mentions " + s);
        }
    }

    private static void assertMessage(String expected, String... args) {
        var e = assertThrows(ConfigLoader.InvalidSettingException.class, () -> ConfigLoader.load(List.of(args), Map.of()));
        assertEquals(expected, e.getMessage());
    }
}
