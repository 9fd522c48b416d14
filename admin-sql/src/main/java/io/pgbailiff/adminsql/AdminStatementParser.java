package io.pgbailiff.adminsql;

import io.pgbailiff.adminsql.AdminStatement.Scope;
import io.pgbailiff.adminsql.Lexer.Kind;
import io.pgbailiff.adminsql.Lexer.Token;
import io.pgbailiff.protocol.SqlState;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.parser.ParseException;
import net.sf.jsqlparser.parser.TokenMgrException;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.Select;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Decides whether one statement is a session-control statement and parses it. SHOW and CANCEL are
 * parsed here; a select has its session sources replaced by placeholder table names JSqlParser
 * accepts, then JSqlParser parses it and {@link SelectCompiler} compiles it.
 *
 * <p>Recognising a statement ({@link #recognize}) takes time linear in its length and little of
 * it. Compiling a select ({@link AdminStatement#compile}) costs JSqlParser tens of microseconds per
 * token, so a proxy compiles off its event loop.
 */
public final class AdminStatementParser {
    private static final Set<String> MD_FUNCTIONS = Set.of("md_active_server_connections",
            "md_current_client_connection_id", "md_interrupt_server_connection");

    private AdminStatementParser() {
    }

    /**
     * Recognises and compiles a statement.
     *
     * @return empty if the statement is not pgbailiff's (forward it to PostgreSQL)
     * @throws AdminSqlException if it is pgbailiff's but wrong
     */
    public static Optional<AdminStatement> parse(String sql) {
        Optional<AdminStatement> statement = recognize(sql);
        statement.ifPresent(AdminStatement::compile);
        return statement;
    }

    /**
     * Recognises a statement without compiling the select in it: cheap, and enough to know whether
     * it is pgbailiff's. Errors JSqlParser would find come from {@link AdminStatement#compile}.
     *
     * @return empty if the statement is not pgbailiff's (forward it to PostgreSQL)
     * @throws AdminSqlException if it is pgbailiff's but wrong in a way seen without compiling
     */
    public static Optional<AdminStatement> recognize(String sql) {
        List<Token> all = Lexer.tokenize(sql);
        int n = all.size();
        while (n > 0 && all.get(n - 1).isSymbol(";")) {
            n--;
        }
        List<Token> t = all.subList(0, n);
        if (t.isEmpty()) {
            return Optional.empty();
        }
        Token first = t.get(0);
        if (first.isWord("show")) {
            return show(sql, t);
        }
        if (first.isWord("cancel")) {
            return Optional.of(cancel(sql, t));
        }
        if (first.isWord("select") || first.isWord("with") || first.isWord("from") || first.isSymbol("(")) {
            return select(sql, t, false).map(s -> s);
        }
        return Optional.empty();
    }

    private static Optional<AdminStatement> show(String sql, List<Token> t) {
        int[] i = {1};
        Object[] src = showBody(t, i);
        if (src == null) {
            return Optional.empty();
        }
        expectEnd(sql, t, i[0]);
        boolean all = (Boolean) src[1];
        Scope scope = (Scope) src[2];
        return Optional.of(src[0] == VirtualTable.SESSIONS ? new AdminStatement.ShowSessions(all, scope)
                : new AdminStatement.ShowQueries(all, scope));
    }

    /** After SHOW: {@code [ALL] [CLUSTER|LOCAL] SESSIONS|QUERIES|STATEMENTS} as {table, all, scope}, or null. */
    private static Object[] showBody(List<Token> t, int[] i) {
        int k = i[0];
        boolean all = k < t.size() && t.get(k).isWord("all");
        if (all) {
            k++;
        }
        Scope scope = Scope.CLUSTER;
        if (k < t.size() && (t.get(k).isWord("cluster") || t.get(k).isWord("local"))) {
            scope = t.get(k).isWord("local") ? Scope.LOCAL : Scope.CLUSTER;
            k++;
        }
        if (k >= t.size()) {
            return null;
        }
        Token what = t.get(k);
        VirtualTable table = what.isWord("sessions") ? VirtualTable.SESSIONS
                : what.isWord("queries") || what.isWord("statements") ? VirtualTable.QUERIES : null;
        if (table == null) {
            return null;
        }
        i[0] = k + 1;
        return new Object[] {table, all, scope};
    }

    private static AdminStatement cancel(String sql, List<Token> t) {
        int i = 1;
        Token what = i < t.size() ? t.get(i) : null;
        AdminStatement.Target target;
        boolean plural;
        if (what != null && (what.isWord("session") || what.isWord("sessions"))) {
            target = AdminStatement.Target.SESSION;
            plural = what.isWord("sessions");
        } else if (what != null && (what.isWord("query") || what.isWord("queries"))) {
            target = AdminStatement.Target.QUERY;
            plural = what.isWord("queries");
        } else {
            throw syntaxAt(sql, what);
        }
        i++;
        boolean ifExists = false;
        if (i < t.size() && t.get(i).isWord("if")) {
            if (i + 1 >= t.size() || !t.get(i + 1).isWord("exists")) {
                throw syntaxAt(sql, i + 1 < t.size() ? t.get(i + 1) : null);
            }
            ifExists = true;
            i += 2;
        }
        if (i >= t.size()) {
            throw syntaxAt(sql, null);
        }
        int value = idValue(t, i);
        Token src = t.get(i);
        AdminStatement.IdSource source;
        if (value >= 0) {
            Token id = t.get(value);
            source = id.kind() == Kind.STRING ? new AdminStatement.Literal(id.value())
                    : new AdminStatement.Parameter(Integer.parseInt(id.value()));
        } else if (src.kind() == Kind.STRING || src.kind() == Kind.PARAM) {
            throw syntaxAt(sql, t.get(i + 1));
        } else if (src.isSymbol("(") || src.isWord("select") || src.isWord("with") || src.isWord("from")) {
            int end = t.get(t.size() - 1).end();
            SelectQuery q = select(sql.substring(0, end), t.subList(i, t.size()), true).orElseThrow();
            source = new AdminStatement.Subquery(q);
        } else {
            throw syntaxAt(sql, src);
        }
        return new AdminStatement.Cancel(target, plural, ifExists, source);
    }

    /** Casts an id may carry: pgjdbc's simple mode sends a parameter as {@code ('value')}, for some types with a cast. */
    private static final java.util.Set<String> TEXT_TYPES = java.util.Set.of("text", "varchar", "uuid", "unknown");

    /**
     * If the tokens from {@code i} to the end are one string literal or parameter, optionally cast
     * to a text type and in any number of parentheses ({@code 'id'}, {@code (('id'))},
     * {@code ($1::text)}), the index of that token; otherwise -1.
     */
    private static int idValue(List<Token> t, int i) {
        int open = 0;
        while (i + open < t.size() && t.get(i + open).isSymbol("(")) {
            open++;
        }
        int v = i + open;
        if (v >= t.size() || (t.get(v).kind() != Kind.STRING && t.get(v).kind() != Kind.PARAM)) {
            return -1;
        }
        int k = v + 1;
        if (k + 1 < t.size() && t.get(k).isSymbol("::") && TEXT_TYPES.stream().anyMatch(t.get(k + 1)::isWord)) {
            k += 2;
        }
        for (int c = 0; c < open; c++, k++) {
            if (k >= t.size() || !t.get(k).isSymbol(")")) {
                return -1;
            }
        }
        return k == t.size() ? v : -1;
    }

    private static void expectEnd(String sql, List<Token> t, int i) {
        if (i < t.size()) {
            throw syntaxAt(sql, t.get(i));
        }
    }

    private static AdminSqlException syntaxAt(String sql, Token tok) {
        if (tok == null) {
            return AdminSqlException.syntax(null, sql.length() + 1);
        }
        return AdminSqlException.syntax(sql.substring(tok.start(), tok.end()), tok.start() + 1);
    }

    /** A replacement of {@code [start, end)} of the original text. */
    record Edit(int start, int end, String text) {
    }

    /**
     * Parses the select made of tokens {@code t} of {@code sql}. Unless {@code force}, a select that
     * touches no session source or md_* function is not ours: empty.
     */
    private static Optional<SelectQuery> select(String sql, List<Token> t, boolean force) {
        int from = t.get(0).start(), to = t.get(t.size() - 1).end();
        List<Edit> edits = new ArrayList<>();
        boolean admin = force;
        if (t.get(0).isWord("from")) {
            edits.add(new Edit(from, from, "SELECT * "));
        }
        for (int i = 0; i < t.size(); i++) {
            Token tok = t.get(i);
            boolean open = tok.isSymbol("[") || tok.isSymbol("(");
            if (open && i + 1 < t.size() && t.get(i + 1).isWord("show")) {
                int[] k = {i + 2};
                Object[] src = showBody(t, k);
                String close = tok.isSymbol("[") ? "]" : ")";
                if (src == null || k[0] >= t.size() || !t.get(k[0]).isSymbol(close)) {
                    throw syntaxAt(sql, src == null ? (i + 2 < t.size() ? t.get(i + 2) : null) : k[0] < t.size() ? t.get(k[0]) : null);
                }
                String name = ((VirtualTable) src[0]).placeholder((Boolean) src[1], (Scope) src[2]);
                edits.add(new Edit(tok.start(), t.get(k[0]).end(), close.equals("]") ? name : "(SELECT * FROM " + name + ")"));
                admin = true;
                i = k[0];
            } else if (tok.kind() == Kind.WORD && MD_FUNCTIONS.contains(tok.value())) {
                admin = true;
                if (tok.value().equals("md_active_server_connections") && i + 2 < t.size() && t.get(i + 1).isSymbol("(")
                        && t.get(i + 2).isSymbol(")")) {
                    edits.add(new Edit(tok.start(), t.get(i + 2).end(), VirtualTable.ACTIVE_CONNECTIONS.placeholder(false, Scope.CLUSTER)));
                    i += 2;
                }
            } else if (tok.isSymbol(";")) {
                throw syntaxAt(sql, tok);
            }
        }
        if (!admin) {
            return Optional.empty();
        }
        StringBuilder rewritten = new StringBuilder();
        int at = from;
        for (Edit e : edits) {
            rewritten.append(sql, at, e.start()).append(e.text());
            at = e.end();
        }
        rewritten.append(sql, at, to);
        checkNesting(t);
        return Optional.of(new SelectQuery(sql, from, to, rewritten.toString(), List.copyOf(edits)));
    }

    /**
     * Parses a recognised select's rewritten text with JSqlParser and compiles it. Error
     * positions are mapped back to the statement as written.
     */
    static SelectQuery.Compiled compile(SelectQuery q) {
        String sql = q.statementText(), text = q.rewritten();
        int from = q.from(), to = q.to();
        List<Edit> edits = q.edits();
        Statement st;
        try {
            // complex parsing backtracks, and takes exponential time in the depth of nested parentheses
            st = CCJSqlParserUtil.newParser(text).withAllowComplexParsing(false).Statement();
        } catch (ParseException e) {
            int pos = sql.length() + 1;
            if (e.currentToken != null && e.currentToken.next != null) {
                net.sf.jsqlparser.parser.Token nt = e.currentToken.next;
                int off = offsetOf(text, nt.beginLine, nt.beginColumn);
                pos = toOriginal(off, from, edits) + 1;
                if (nt.image == null || nt.image.isEmpty()) {
                    throw AdminSqlException.syntax(null, to + 1);
                }
                throw AdminSqlException.syntax(nt.image, pos);
            }
            throw AdminSqlException.syntax(null, pos);
        } catch (TokenMgrException | IllegalStateException e) {
            throw new AdminSqlException(SqlState.SYNTAX_ERROR, "syntax error: " + e.getMessage(), null, from + 1);
        }
        if (!(st instanceof Select select)) {
            throw AdminSqlException.syntax(sql.substring(from, Math.min(to, firstWordEnd(sql, from))), from + 1);
        }
        int[] params = {0};
        SelectPlan plan;
        try {
            plan = SelectCompiler.compile(select, params);
        } catch (AdminSqlException e) {
            if (e.position() == 0) {
                throw new AdminSqlException(e.state(), e.getMessage(), e.hint(), from + 1);
            }
            throw e;
        }
        return new SelectQuery.Compiled(plan, params[0]);
    }

    private static int firstWordEnd(String sql, int from) {
        int i = from;
        while (i < sql.length() && Character.isLetterOrDigit(sql.charAt(i))) {
            i++;
        }
        return i > from ? i : from + 1;
    }

    /** Deeper than this, a session-control select is refused before it is parsed, as PostgreSQL refuses a too-deep expression. */
    static final int MAX_NESTING = 16;

    private static void checkNesting(List<Token> t) {
        int depth = 0;
        for (Token tok : t) {
            if (tok.isSymbol("(") || tok.isSymbol("[")) {
                if (++depth > MAX_NESTING) {
                    throw new AdminSqlException(SqlState.STATEMENT_TOO_COMPLEX,
                            "statement is too complex: more than " + MAX_NESTING + " levels of parentheses",
                            "Session-control statements are evaluated by pgbailiff; simplify the expression.", tok.start() + 1);
                }
            } else if (tok.isSymbol(")") || tok.isSymbol("]")) {
                depth--;
            }
        }
    }

    private static int offsetOf(String text, int line, int column) {
        int off = 0;
        for (int l = 1; l < line && off < text.length(); l++) {
            int nl = text.indexOf('\n', off);
            off = nl < 0 ? text.length() : nl + 1;
        }
        return Math.min(text.length(), off + Math.max(0, column - 1));
    }

    /** Maps an offset in the rewritten text back to the original statement. */
    private static int toOriginal(int rewrittenOffset, int from, List<Edit> edits) {
        int orig = from, rw = 0;
        for (Edit e : edits) {
            int plain = e.start() - orig;
            if (rewrittenOffset < rw + plain) {
                return orig + (rewrittenOffset - rw);
            }
            rw += plain;
            if (rewrittenOffset < rw + e.text().length()) {
                return e.start();
            }
            rw += e.text().length();
            orig = e.end();
        }
        return orig + (rewrittenOffset - rw);
    }
}
