package io.pgbailiff.bench;

import java.util.HashMap;
import java.util.Map;

/** {@code --key value} and bare {@code --flag} arguments. */
final class Args {
    private Args() {
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            String key = args[i].substring(2);
            if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                map.put(key, args[++i]);
            } else {
                map.put(key, "");
            }
        }
        return map;
    }
}
