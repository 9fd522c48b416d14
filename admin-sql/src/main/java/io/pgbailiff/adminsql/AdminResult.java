package io.pgbailiff.adminsql;

import java.util.List;

/**
 * What an admin statement returns: the columns (empty for a cancel, which sends no RowDescription),
 * the rows (values as described in {@link PgType}) and the CommandComplete tag.
 */
public record AdminResult(List<Column> columns, List<List<Object>> rows, String commandTag) {
}
