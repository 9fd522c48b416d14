package io.pgbailiff.proxy;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * The SQL text of a session's prepared statements, or of its portals, by name.
 *
 * <p>Most clients use only the unnamed statement and portal, redefined by every query in the
 * extended protocol. The unnamed one is kept in a field, so such a query reaches no hash table:
 * with many sessions, a table's entries are seldom in the CPU's cache when the session's next
 * message arrives. At 128 pgbench clients in extended mode the look-ups took 0.3 µs of the
 * 26–30 µs of CPU pgbailiff spent per transaction, and under 0.1 µs with the field
 * (bench/README.md, "Where the proxies' CPU goes"). The table is created at the first name, as
 * most sessions never name one.
 */
final class SqlByName {
    private String unnamed;
    private Map<String, String> named = Collections.emptyMap();

    void put(String name, String sql) {
        if (name.isEmpty()) {
            unnamed = sql;
            return;
        }
        if (named.isEmpty()) {
            named = new HashMap<>();
        }
        named.put(name, sql);
    }

    /** The text defined under the name, or null if none is. */
    String get(String name) {
        return name.isEmpty() ? unnamed : named.get(name);
    }

    void remove(String name) {
        if (name.isEmpty()) {
            unnamed = null;
        } else {
            named.remove(name);
        }
    }
}
