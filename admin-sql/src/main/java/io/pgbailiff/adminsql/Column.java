package io.pgbailiff.adminsql;

/** One result column, as described in RowDescription. */
public record Column(String name, PgType type) {
}
