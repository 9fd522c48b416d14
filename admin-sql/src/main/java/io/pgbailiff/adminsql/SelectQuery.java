package io.pgbailiff.adminsql;

import java.util.List;

/**
 * A select over session sources ({@code [SHOW SESSIONS]}, {@code WITH x AS (SHOW SESSIONS)},
 * {@code md_active_server_connections()}) or calling the md_* functions. Recognised with its
 * sources already replaced by placeholders; JSqlParser parses and compiles it at
 * {@link #compile}, once. A statement belongs to one session, which uses it from one thread at a
 * time, handing it between threads through executors (which order the compile before any later
 * use); it is not for concurrent use. {@link #columns} and {@link #parameterCount} compile it
 * first if it is not compiled yet.
 */
public final class SelectQuery implements AdminStatement {
    private final String statementText;
    private final int from;
    private final int to;
    private final String rewritten;
    private final List<AdminStatementParser.Edit> edits;
    private volatile Compiled compiled;

    record Compiled(SelectPlan plan, int parameterCount) {
    }

    /**
     * @param statementText the whole statement the select is part of (error positions count in it)
     * @param from          where the select starts in it
     * @param to            where it ends
     * @param rewritten     the select with its sources replaced by placeholder tables
     * @param edits         those replacements, to map positions in {@code rewritten} back
     */
    SelectQuery(String statementText, int from, int to, String rewritten, List<AdminStatementParser.Edit> edits) {
        this.statementText = statementText;
        this.from = from;
        this.to = to;
        this.rewritten = rewritten;
        this.edits = edits;
    }

    /** The select's text as written. */
    public String sql() {
        return statementText.substring(from, to);
    }

    @Override
    public void compile() {
        if (compiled == null) {
            compiled = AdminStatementParser.compile(this);
        }
    }

    @Override
    public boolean needsCompiling() {
        return compiled == null;
    }

    @Override
    public List<Column> columns() {
        return List.copyOf(plan().columns);
    }

    @Override
    public int parameterCount() {
        compile();
        return compiled.parameterCount();
    }

    SelectPlan plan() {
        compile();
        return compiled.plan();
    }

    String statementText() {
        return statementText;
    }

    int from() {
        return from;
    }

    int to() {
        return to;
    }

    String rewritten() {
        return rewritten;
    }

    List<AdminStatementParser.Edit> edits() {
        return edits;
    }

    @Override
    public String toString() {
        return "SelectQuery[" + sql() + "]";
    }
}
