package io.pgbailiff.adminsql;

import java.util.List;

/** A session-control statement, as parsed by {@link AdminStatementParser}. */
public sealed interface AdminStatement
        permits AdminStatement.ShowSessions, AdminStatement.ShowQueries, AdminStatement.Cancel, SelectQuery {

    /** CLUSTER (the default) lists every node's sessions, LOCAL only this node's. */
    enum Scope { CLUSTER, LOCAL }

    enum Target { SESSION, QUERY }

    /** The columns a statement returns, known before it runs (for Describe); empty for a cancel. */
    List<Column> columns();

    /** The highest {@code $n} the statement uses, 0 if none. */
    int parameterCount();

    /**
     * Compiles the select in the statement, if it has one and it is not compiled yet. Costly for a
     * long select; everything else about the statement was settled when it was recognised.
     *
     * @throws AdminSqlException if the select is wrong
     */
    default void compile() {
    }

    /** Whether {@link #compile} has work left to do. */
    default boolean needsCompiling() {
        return false;
    }

    /** {@code SHOW [ALL] [CLUSTER | LOCAL] SESSIONS}; ALL also lists sessions being torn down. */
    record ShowSessions(boolean all, Scope scope) implements AdminStatement {
        @Override
        public List<Column> columns() {
            return VirtualTable.SESSIONS.columns();
        }

        @Override
        public int parameterCount() {
            return 0;
        }
    }

    /** {@code SHOW [ALL] [CLUSTER | LOCAL] QUERIES} (or {@code STATEMENTS}). */
    record ShowQueries(boolean all, Scope scope) implements AdminStatement {
        @Override
        public List<Column> columns() {
            return VirtualTable.QUERIES.columns();
        }

        @Override
        public int parameterCount() {
            return 0;
        }
    }

    /** {@code CANCEL SESSION[S] | QUERY | QUERIES [IF EXISTS] <id or select>}. */
    record Cancel(Target target, boolean plural, boolean ifExists, IdSource source) implements AdminStatement {
        @Override
        public void compile() {
            if (source instanceof Subquery s) {
                s.query().compile();
            }
        }

        @Override
        public boolean needsCompiling() {
            return source instanceof Subquery s && s.query().needsCompiling();
        }

        @Override
        public List<Column> columns() {
            return List.of();
        }

        @Override
        public int parameterCount() {
            return source.parameterCount();
        }
    }

    /** Where a cancel gets its ids from. */
    sealed interface IdSource permits Literal, Parameter, Subquery {
        default int parameterCount() {
            return 0;
        }
    }

    record Literal(String text) implements IdSource {
    }

    /** {@code $index}, 1-based. */
    record Parameter(int index) implements IdSource {
        @Override
        public int parameterCount() {
            return index;
        }
    }

    record Subquery(SelectQuery query) implements IdSource {
        @Override
        public int parameterCount() {
            return query.parameterCount();
        }
    }
}
