package io.pgbailiff.it;

import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;

/** Runs a statement on another thread, so a test can act on it while it runs. */
final class Async {
    private Async() {
    }

    /** Completes with the statement's SQLException, or with null if it succeeded. */
    static CompletableFuture<SQLException> execute(Statement statement, String sql) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                statement.execute(sql);
                return null;
            } catch (SQLException e) {
                return e;
            }
        });
    }
}
