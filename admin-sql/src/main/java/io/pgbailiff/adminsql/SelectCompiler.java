package io.pgbailiff.adminsql;

import io.pgbailiff.adminsql.SelectPlan.Expr;
import io.pgbailiff.adminsql.SelectPlan.Row;
import io.pgbailiff.protocol.SqlState;
import net.sf.jsqlparser.expression.*;
import net.sf.jsqlparser.expression.operators.arithmetic.Addition;
import net.sf.jsqlparser.expression.operators.arithmetic.Subtraction;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.conditional.OrExpression;
import net.sf.jsqlparser.expression.operators.relational.*;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.select.*;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/** Turns a JSqlParser select over session sources into a {@link SelectPlan}, or says why it cannot. */
final class SelectCompiler {
    static final String SUPPORTED_HINT = "Session-control selects read only [SHOW SESSIONS], [SHOW QUERIES], "
            + "WITH x AS (SHOW SESSIONS) and md_active_server_connections(), with column lists, *, aliases, WHERE "
            + "(= <> < <= > >=, [NOT] LIKE/ILIKE, IN, IS [NOT] NULL, BETWEEN, AND/OR/NOT), now(), current_user, "
            + "interval arithmetic, casts, ORDER BY, LIMIT/OFFSET, count(*) with GROUP BY, and the md_* functions.";

    /** What md_interrupt_server_connection yields until the executor has sent the interrupts. */
    record PendingInterrupt(UUID id) {
    }

    private final Map<String, SelectPlan> ctes;
    private int maxParam;
    private boolean callsInterrupt;

    private SelectCompiler(Map<String, SelectPlan> ctes) {
        this.ctes = ctes;
    }

    private static final java.util.Set<String> AGGREGATES = java.util.Set.of("count", "min", "max");

    /**
     * Aggregate calls compiled so far in the current select (a nested select starts from and
     * restores the count): how a clause learns that it contains one, however deep in an expression.
     */
    private int aggregates;
    /** How many aggregate calls the expression being compiled is inside of. */
    private int aggregateDepth;
    /** Where the input columns an expression uses outside aggregates are noted, while a clause is checked; else null. */
    private List<String> referenced;

    static SelectPlan compile(Select select, int[] maxParam) {
        SelectCompiler c = new SelectCompiler(new HashMap<>());
        SelectPlan p = c.select(select);
        maxParam[0] = c.maxParam;
        p.callsInterrupt = c.callsInterrupt;
        return p;
    }

    private SelectPlan select(Select select) {
        int outerAggregates = aggregates, outerDepth = aggregateDepth;
        List<String> outerReferenced = referenced;
        aggregateDepth = 0;
        referenced = null;
        try {
            return plainSelect(select);
        } finally {
            aggregates = outerAggregates;
            aggregateDepth = outerDepth;
            referenced = outerReferenced;
        }
    }

    private SelectPlan plainSelect(Select select) {
        if (select instanceof ParenthesedSelect ps && ps.getWithItemsList() == null && ps.getOrderByElements() == null
                && ps.getLimit() == null && ps.getOffset() == null) {
            return select(ps.getSelect());
        }
        if (!(select instanceof PlainSelect ps)) {
            throw AdminSqlException.unsupported("UNION, INTERSECT, EXCEPT and VALUES");
        }
        if (ps.getWithItemsList() != null) {
            for (WithItem<?> w : ps.getWithItemsList()) {
                if (w.getSelect() == null) {
                    throw AdminSqlException.unsupported("this WITH item");
                }
                ctes.put(w.getAliasName().toLowerCase(Locale.ROOT), select(w.getSelect()));
            }
        }
        if (ps.getJoins() != null && !ps.getJoins().isEmpty()) {
            throw AdminSqlException.unsupported("a join");
        }
        if (ps.getDistinct() != null || ps.getFetch() != null || ps.getForMode() != null || ps.getIntoTables() != null) {
            throw AdminSqlException.unsupported("DISTINCT, FETCH, FOR UPDATE and INTO");
        }
        SelectPlan plan = new SelectPlan();
        plan.source = source(ps.getFromItem());
        List<Column> in = plan.source.columns();
        if (ps.getWhere() != null) {
            plan.where = withoutAggregates(ps.getWhere(), in, "WHERE").expr;
        }
        java.util.Set<String> grouped = new java.util.HashSet<>();
        List<String> outsideAggregates = new ArrayList<>();
        boolean groupedByColumnsOnly = true;
        if (ps.getGroupBy() != null) {
            List<Expr> g = new ArrayList<>();
            for (Object o : ps.getGroupBy().getGroupByExpressionList()) {
                Expression e = unparenthesised(groupedOutput((Expression) o, ps.getSelectItems(), in));
                if (e instanceof net.sf.jsqlparser.schema.Column c) {
                    grouped.add(unquote(c.getColumnName()).toLowerCase(Locale.ROOT));
                } else {
                    groupedByColumnsOnly = false;
                }
                g.add(withoutAggregates(e, in, "GROUP BY").expr);
            }
            plan.groupBy = g;
            plan.aggregate = true;
        }
        for (SelectItem<?> item : ps.getSelectItems()) {
            Expression e = item.getExpression();
            if (e instanceof AllColumns) {
                for (int i = 0; i < in.size(); i++) {
                    int idx = i;
                    plan.columns.add(in.get(i));
                    plan.outputs.add(r -> r.values()[idx]);
                }
                continue;
            }
            int before = aggregates;
            Typed t = noting(e, in, true, outsideAggregates);
            plan.aggregate |= t.aggregate || aggregates > before;
            String name = item.getAlias() != null ? unquote(item.getAlias().getName()) : t.name;
            plan.columns.add(new Column(name, t.type));
            plan.outputs.add(t.expr);
        }
        if (ps.getHaving() != null) {
            plan.having = noting(ps.getHaving(), in, false, outsideAggregates).expr;
            plan.aggregate = true;
        }
        if (ps.getOrderByElements() != null) {
            List<SelectPlan.OrderKey> keys = new ArrayList<>();
            for (OrderByElement o : ps.getOrderByElements()) {
                boolean desc = !o.isAsc();
                boolean nullsFirst = o.getNullOrdering() == null ? desc
                        : o.getNullOrdering() == OrderByElement.NullOrdering.NULLS_FIRST;
                int out = outputIndex(o.getExpression(), plan);
                int before = aggregates;
                Expr key = out >= 0 ? null : noting(o.getExpression(), in, false, outsideAggregates).expr;
                plan.aggregate |= aggregates > before;
                keys.add(new SelectPlan.OrderKey(key, out, desc, nullsFirst));
            }
            plan.order = keys;
        }
        if (plan.aggregate) {
            checkGrouped(ps.getSelectItems(), in, grouped);
            if (groupedByColumnsOnly) {
                outsideAggregates.stream().filter(c -> !grouped.contains(c.toLowerCase(Locale.ROOT))).findFirst().ifPresent(c -> {
                    throw ungrouped(c);
                });
            }
        }
        if (ps.getLimit() != null) {
            if (ps.getLimit().getOffset() != null) {
                plan.offset = withoutAggregates(ps.getLimit().getOffset(), List.of(), "OFFSET").expr;
            }
            if (ps.getLimit().getRowCount() != null && !(ps.getLimit().getRowCount() instanceof AllValue)) {
                plan.limit = withoutAggregates(ps.getLimit().getRowCount(), List.of(), "LIMIT").expr;
            }
        }
        if (ps.getOffset() != null) {
            plan.offset = withoutAggregates(ps.getOffset().getOffset(), List.of(), "OFFSET").expr;
        }
        return plan;
    }

    /**
     * As in PostgreSQL, {@code GROUP BY 2} groups by the second output column, and
     * {@code GROUP BY name} by the output column of that name when no input column has it.
     */
    private static Expression groupedOutput(Expression e, List<SelectItem<?>> items, List<Column> in) {
        if (e instanceof LongValue l) {
            List<Expression> outputs = new ArrayList<>();
            for (SelectItem<?> item : items) {
                if (item.getExpression() instanceof AllColumns) {
                    in.forEach(c -> outputs.add(new net.sf.jsqlparser.schema.Column(c.name())));
                } else {
                    outputs.add(item.getExpression());
                }
            }
            long i = l.getValue() - 1;
            if (i < 0 || i >= outputs.size()) {
                throw new AdminSqlException(SqlState.INVALID_COLUMN_REFERENCE, "GROUP BY position " + l.getValue() + " is not in select list");
            }
            return outputs.get((int) i);
        }
        if (e instanceof net.sf.jsqlparser.schema.Column c && c.getTable() == null) {
            String name = unquote(c.getColumnName());
            if (in.stream().noneMatch(col -> col.name().equalsIgnoreCase(name))) {
                for (SelectItem<?> item : items) {
                    if (item.getAlias() != null && unquote(item.getAlias().getName()).equalsIgnoreCase(name)) {
                        return item.getExpression();
                    }
                }
            }
        }
        return e;
    }

    private void noteReference(String column) {
        if (referenced != null && aggregateDepth == 0) {
            referenced.add(column);
        }
    }

    /** Compiles {@code e}, noting in {@code into} the input columns it uses outside aggregates. */
    private Typed noting(Expression e, List<Column> in, boolean selectList, List<String> into) {
        List<String> outer = referenced;
        referenced = into;
        try {
            return expr(e, in, selectList);
        } finally {
            referenced = outer;
        }
    }

    private Typed withoutAggregates(Expression e, List<Column> in, String clause) {
        int before = aggregates;
        Typed t = expr(e, in);
        if (t.aggregate || aggregates > before) {
            throw new AdminSqlException(SqlState.GROUPING_ERROR, "aggregate functions are not allowed in " + clause);
        }
        return t;
    }

    private static AdminSqlException ungrouped(String column) {
        return new AdminSqlException(SqlState.GROUPING_ERROR, "column \"" + column
                + "\" must appear in the GROUP BY clause or be used in an aggregate function");
    }

    private static Expression unparenthesised(Expression e) {
        while (true) {
            if (e instanceof Parenthesis p) {
                e = p.getExpression();
            } else if (e instanceof ParenthesedExpressionList<?> l && l.size() == 1) {
                e = l.get(0);
            } else {
                return e;
            }
        }
    }

    /**
     * In a select that aggregates, a column of the input may stand in the select list only if it
     * is grouped by, as PostgreSQL requires; otherwise which row's value it shows is arbitrary.
     * Columns inside aggregates and expressions over them are not looked into here.
     */
    private static void checkGrouped(List<SelectItem<?>> items, List<Column> in, java.util.Set<String> grouped) {
        for (SelectItem<?> item : items) {
            Expression e = item.getExpression();
            String ungrouped = null;
            if (e instanceof AllColumns) {
                ungrouped = in.stream().map(Column::name).filter(n -> !grouped.contains(n.toLowerCase(Locale.ROOT)))
                        .findFirst().orElse(null);
            } else if (unparenthesised(e) instanceof net.sf.jsqlparser.schema.Column c) {
                String name = unquote(c.getColumnName()).toLowerCase(Locale.ROOT);
                if (!grouped.contains(name) && in.stream().anyMatch(col -> col.name().equalsIgnoreCase(name))) {
                    ungrouped = name;
                }
            }
            if (ungrouped != null) {
                throw ungrouped(ungrouped);
            }
        }
    }

    /** ORDER BY 2 or ORDER BY an output name refers to the output column, as in PostgreSQL. */
    private static int outputIndex(Expression e, SelectPlan plan) {
        if (e instanceof LongValue l) {
            int i = (int) l.getValue() - 1;
            if (i < 0 || i >= plan.columns.size()) {
                throw new AdminSqlException(SqlState.INVALID_COLUMN_REFERENCE, "ORDER BY position " + l.getValue() + " is not in select list");
            }
            return i;
        }
        if (e instanceof net.sf.jsqlparser.schema.Column c && c.getTable() == null) {
            String name = unquote(c.getColumnName());
            for (int i = 0; i < plan.columns.size(); i++) {
                if (plan.columns.get(i).name().equals(name)) {
                    return i;
                }
            }
        }
        return -1;
    }

    private SelectPlan.Source source(FromItem from) {
        if (from == null) {
            return new SelectPlan.Source() {
                public List<Column> columns() {
                    return List.of();
                }

                public List<Object[]> rows(Env env) {
                    List<Object[]> one = new ArrayList<>();
                    one.add(new Object[0]);
                    return one;
                }
            };
        }
        if (from instanceof Table t) {
            Object[] v = VirtualTable.fromPlaceholder(t.getName());
            if (v != null) {
                VirtualTable table = (VirtualTable) v[0];
                boolean all = (Boolean) v[1];
                AdminStatement.Scope scope = (AdminStatement.Scope) v[2];
                return new SelectPlan.Source() {
                    public List<Column> columns() {
                        return table.columns();
                    }

                    public List<Object[]> rows(Env env) {
                        return table.rows(env, all, scope);
                    }
                };
            }
            SelectPlan cte = t.getSchemaName() == null ? ctes.get(unquote(t.getName())) : null;
            if (cte != null) {
                return planSource(cte);
            }
            throw new AdminSqlException(SqlState.FEATURE_NOT_SUPPORTED,
                    "relation \"" + t.getFullyQualifiedName() + "\" cannot be read in a session-control statement",
                    SUPPORTED_HINT, 0);
        }
        if (from instanceof ParenthesedSelect ps) {
            return planSource(select(ps));
        }
        throw AdminSqlException.unsupported("this FROM item (" + from + ")");
    }

    private static SelectPlan.Source planSource(SelectPlan p) {
        return new SelectPlan.Source() {
            public List<Column> columns() {
                return p.columns;
            }

            public List<Object[]> rows(Env env) {
                return p.run(env);
            }
        };
    }

    /** A compiled expression with its result type and PostgreSQL's default column name. */
    record Typed(Expr expr, PgType type, String name, boolean aggregate) {
        Typed(Expr expr, PgType type) {
            this(expr, type, "?column?", false);
        }
    }

    private Typed expr(Expression e, List<Column> in) {
        return expr(e, in, false);
    }

    private Typed expr(Expression e, List<Column> in, boolean selectList) {
        if (InListPrecedence.isSwallowed(e)) {
            Expression repaired = InListPrecedence.repair(e);
            if (repaired != e) {
                return expr(repaired, in, selectList);
            }
        }
        if (e instanceof net.sf.jsqlparser.schema.Column c) {
            return column(c, in);
        }
        if (e instanceof StringValue s) {
            String v = s.getValue().replace("''", "'");
            if ("E".equalsIgnoreCase(s.getPrefix())) {
                v = v.replace("\\'", "'").replace("\\\\", "\\");
            }
            String value = v;
            return new Typed(r -> value, PgType.TEXT, "?column?", false);
        }
        if (e instanceof LongValue l) {
            long v = l.getValue();
            if (v == (int) v) {
                Integer iv = (int) v;
                return new Typed(r -> iv, PgType.INT4);
            }
            return new Typed(r -> v, PgType.INT8);
        }
        if (e instanceof NullValue) {
            return new Typed(r -> null, PgType.TEXT);
        }
        if (e instanceof BooleanValue b) {
            boolean v = b.getValue();
            return new Typed(r -> v, PgType.BOOL, "bool", false);
        }
        if (e instanceof JdbcParameter p) {
            int idx = p.getIndex();
            maxParam = Math.max(maxParam, idx);
            return new Typed(r -> r.env().param(idx), PgType.TEXT);
        }
        if (e instanceof Parenthesis p) {
            return expr(p.getExpression(), in, selectList);
        }
        if (e instanceof ParenthesedExpressionList<?> l && l.size() == 1) {
            return expr(l.get(0), in, selectList);
        }
        if (e instanceof AndExpression a) {
            Expr x = expr(a.getLeftExpression(), in).expr, y = expr(a.getRightExpression(), in).expr;
            return bool(r -> {
                Object p = x.eval(r);
                if (Boolean.FALSE.equals(p)) {
                    return false;
                }
                Object q = y.eval(r);
                return Boolean.FALSE.equals(q) ? Boolean.FALSE : p == null || q == null ? null : Boolean.TRUE;
            });
        }
        if (e instanceof OrExpression o) {
            Expr x = expr(o.getLeftExpression(), in).expr, y = expr(o.getRightExpression(), in).expr;
            return bool(r -> {
                Object p = x.eval(r);
                if (Boolean.TRUE.equals(p)) {
                    return true;
                }
                Object q = y.eval(r);
                return Boolean.TRUE.equals(q) ? Boolean.TRUE : p == null || q == null ? null : Boolean.FALSE;
            });
        }
        if (e instanceof NotExpression n) {
            Expr x = expr(n.getExpression(), in).expr;
            return bool(r -> {
                Object v = x.eval(r);
                return v == null ? null : !Values.toBool(v);
            });
        }
        if (e instanceof ComparisonOperator c) {
            return comparison(c, in);
        }
        if (e instanceof LikeExpression l) {
            return like(l, in);
        }
        if (e instanceof IsNullExpression n) {
            Expr x = expr(n.getLeftExpression(), in).expr;
            boolean not = n.isNot();
            return bool(r -> (x.eval(r) == null) != not);
        }
        if (e instanceof Between b) {
            Expr x = expr(b.getLeftExpression(), in).expr;
            Expr lo = expr(b.getBetweenExpressionStart(), in).expr, hi = expr(b.getBetweenExpressionEnd(), in).expr;
            boolean not = b.isNot();
            return bool(r -> {
                Object v = x.eval(r), l = lo.eval(r), h = hi.eval(r);
                if (v == null || l == null || h == null) {
                    return null;
                }
                return (Values.compare(v, l) >= 0 && Values.compare(v, h) <= 0) != not;
            });
        }
        if (e instanceof InExpression i) {
            return in(i, in);
        }
        if (e instanceof IntervalExpression i) {
            return interval(i);
        }
        if (e instanceof CastExpression c) {
            return cast(c, in);
        }
        if (e instanceof Addition || e instanceof Subtraction) {
            BinaryExpression b = (BinaryExpression) e;
            return arithmetic(expr(b.getLeftExpression(), in), expr(b.getRightExpression(), in), e instanceof Subtraction);
        }
        if (e instanceof SignedExpression s && s.getSign() == '-') {
            Typed t = expr(s.getExpression(), in);
            return new Typed(r -> {
                Object v = t.expr.eval(r);
                return v == null ? null : v instanceof PgInterval iv ? iv.negate() : (Object) (-Values.toLong(v));
            }, t.type);
        }
        if (e instanceof TimeKeyExpression t) {
            return keyword(t.getStringValue().toLowerCase(Locale.ROOT), in);
        }
        if (e instanceof Function f) {
            return function(f, in, selectList);
        }
        throw AdminSqlException.unsupported("the expression " + e);
    }

    private static Typed bool(Expr e) {
        return new Typed(e, PgType.BOOL, "?column?", false);
    }

    private Typed column(net.sf.jsqlparser.schema.Column c, List<Column> in) {
        String name = unquote(c.getColumnName());
        for (int i = 0; i < in.size(); i++) {
            if (in.get(i).name().equals(name)) {
                int idx = i;
                noteReference(name);
                return new Typed(r -> r.values()[idx], in.get(i).type(), name, false);
            }
        }
        if (name.equals("username")) {
            for (int i = 0; i < in.size(); i++) {
                if (in.get(i).name().equals("user_name")) {
                    int idx = i;
                    noteReference("user_name");
                    return new Typed(r -> r.values()[idx], PgType.TEXT, "user_name", false);
                }
            }
        }
        if (c.getTable() == null && !c.getColumnName().startsWith("\"")) {
            Typed k = keywordOrNull(name);
            if (k != null) {
                return k;
            }
        }
        StringBuilder names = new StringBuilder();
        for (Column col : in) {
            names.append(names.length() == 0 ? "" : ", ").append(col.name());
        }
        throw new AdminSqlException(SqlState.UNDEFINED_COLUMN, "column \"" + name + "\" does not exist",
                in.isEmpty() ? null : "Available columns: " + names + ".", 0);
    }

    private Typed keyword(String k, List<Column> in) {
        Typed t = keywordOrNull(k);
        if (t == null) {
            throw AdminSqlException.unsupported(k);
        }
        return t;
    }

    private static Typed keywordOrNull(String k) {
        return switch (k) {
            case "current_user", "session_user", "user", "current_role" ->
                    new Typed(r -> r.env().caller().userName(), PgType.TEXT, k.equals("user") ? "current_user" : k, false);
            case "current_timestamp", "localtimestamp" -> new Typed(r -> r.env().now(), PgType.TIMESTAMPTZ, k, false);
            case "true" -> new Typed(r -> true, PgType.BOOL, "bool", false);
            case "false" -> new Typed(r -> false, PgType.BOOL, "bool", false);
            default -> null;
        };
    }

    private Typed comparison(ComparisonOperator c, List<Column> in) {
        Expr x = expr(c.getLeftExpression(), in).expr, y = expr(c.getRightExpression(), in).expr;
        String op = c.getStringExpression();
        return bool(r -> {
            Object a = x.eval(r), b = y.eval(r);
            if (a == null || b == null) {
                return null;
            }
            int cmp = Values.compare(a, b);
            return switch (op) {
                case "=" -> cmp == 0;
                case "<>", "!=" -> cmp != 0;
                case "<" -> cmp < 0;
                case "<=" -> cmp <= 0;
                case ">" -> cmp > 0;
                case ">=" -> cmp >= 0;
                default -> throw AdminSqlException.unsupported("the operator " + op);
            };
        });
    }

    private Typed like(LikeExpression l, List<Column> in) {
        LikeExpression.KeyWord kw = l.getLikeKeyWord();
        if (kw != LikeExpression.KeyWord.LIKE && kw != LikeExpression.KeyWord.ILIKE) {
            throw AdminSqlException.unsupported(kw.toString());
        }
        boolean ci = kw == LikeExpression.KeyWord.ILIKE;
        boolean not = l.isNot();
        Expr x = expr(l.getLeftExpression(), in).expr, p = expr(l.getRightExpression(), in).expr;
        Map<String, LikePattern> cache = new HashMap<>();
        return bool(r -> {
            Object v = x.eval(r), pat = p.eval(r);
            if (v == null || pat == null) {
                return null;
            }
            LikePattern like = cache.computeIfAbsent(Values.toText(pat), s -> LikePattern.compile(s, ci));
            return like.matches(Values.toText(v)) != not;
        });
    }

    private Typed in(InExpression i, List<Column> in) {
        Expr x = expr(i.getLeftExpression(), in).expr;
        boolean not = i.isNot();
        Expression right = i.getRightExpression();
        if (right instanceof ParenthesedSelect ps) {
            SelectPlan sub = select(ps);
            if (sub.columns.size() != 1) {
                throw new AdminSqlException(SqlState.SYNTAX_ERROR, "subquery has too many columns");
            }
            return bool(r -> {
                Object v = x.eval(r);
                if (v == null) {
                    return null;
                }
                for (Object[] row : sub.run(r.env())) {
                    if (row[0] != null && Values.compare(v, row[0]) == 0) {
                        return !not;
                    }
                }
                return not;
            });
        }
        if (!(right instanceof ExpressionList<?> list)) {
            throw AdminSqlException.unsupported("IN " + right);
        }
        List<Expr> items = new ArrayList<>();
        for (Expression item : list) {
            items.add(expr(item, in).expr);
        }
        return bool(r -> {
            Object v = x.eval(r);
            if (v == null) {
                return null;
            }
            boolean sawNull = false;
            for (Expr item : items) {
                Object w = item.eval(r);
                if (w == null) {
                    sawNull = true;
                } else if (Values.compare(v, w) == 0) {
                    return !not;
                }
            }
            return sawNull ? null : not;
        });
    }

    private static Typed interval(IntervalExpression i) {
        String text;
        if (i.getParameter() != null) {
            text = i.getParameter();
            if (text.startsWith("'") && text.endsWith("'")) {
                text = text.substring(1, text.length() - 1);
            }
            if (i.getIntervalType() != null) {
                text = text + " " + i.getIntervalType();
            }
        } else if (i.getExpression() instanceof LongValue || i.getExpression() instanceof StringValue) {
            text = (i.getExpression() instanceof StringValue s ? s.getValue() : i.getExpression().toString())
                    + " " + (i.getIntervalType() == null ? "" : i.getIntervalType());
        } else {
            throw AdminSqlException.unsupported("the interval " + i);
        }
        PgInterval v = PgInterval.parse(text);
        return new Typed(r -> v, PgType.INTERVAL, "interval", false);
    }

    private Typed cast(CastExpression c, List<Column> in) {
        Typed t = expr(c.getLeftExpression(), in);
        String type = c.getColDataType().getDataType().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
        String name = t.name.equals("?column?") ? null : t.name;
        Expr x = t.expr;
        return switch (type) {
            case "uuid" -> new Typed(r -> nullOr(x.eval(r), Values::toUuid), PgType.UUID, name == null ? "uuid" : name, t.aggregate);
            case "text", "varchar", "character varying", "string" ->
                    new Typed(r -> nullOr(x.eval(r), Values::toText), PgType.TEXT, name == null ? "text" : name, t.aggregate);
            case "int8", "bigint" -> new Typed(r -> nullOr(x.eval(r), Values::toLong), PgType.INT8, name == null ? "int8" : name, t.aggregate);
            case "int4", "int", "integer" -> new Typed(r -> nullOr(x.eval(r), v -> Math.toIntExact(Values.toLong(v))),
                    PgType.INT4, name == null ? "int4" : name, t.aggregate);
            case "bool", "boolean" -> new Typed(r -> nullOr(x.eval(r), Values::toBool), PgType.BOOL, name == null ? "bool" : name, t.aggregate);
            case "interval" -> new Typed(r -> nullOr(x.eval(r), v -> v instanceof PgInterval ? v : PgInterval.parse(v.toString())),
                    PgType.INTERVAL, name == null ? "interval" : name, t.aggregate);
            case "timestamptz", "timestamp with time zone", "timestamp" ->
                    new Typed(r -> nullOr(x.eval(r), Values::toInstant), PgType.TIMESTAMPTZ, name == null ? "timestamptz" : name, t.aggregate);
            default -> throw AdminSqlException.unsupported("a cast to " + type);
        };
    }

    private static Object nullOr(Object v, java.util.function.Function<Object, Object> f) {
        return v == null ? null : f.apply(v);
    }

    private static Typed arithmetic(Typed a, Typed b, boolean minus) {
        PgType type;
        if (a.type == PgType.TIMESTAMPTZ && b.type == PgType.TIMESTAMPTZ && minus) {
            type = PgType.INTERVAL;
        } else if (a.type == PgType.TIMESTAMPTZ || b.type == PgType.TIMESTAMPTZ) {
            type = PgType.TIMESTAMPTZ;
        } else if (a.type == PgType.INTERVAL || b.type == PgType.INTERVAL) {
            type = PgType.INTERVAL;
        } else {
            type = PgType.INT8;
        }
        return new Typed(r -> {
            Object x = a.expr.eval(r), y = b.expr.eval(r);
            if (x == null || y == null) {
                return null;
            }
            return switch (type) {
                case INTERVAL -> x instanceof Instant i && y instanceof Instant j ? PgInterval.between(j, i)
                        : toInterval(x).plus(minus ? toInterval(y).negate() : toInterval(y));
                case TIMESTAMPTZ -> {
                    Instant t = x instanceof Instant i ? i : Values.toInstant(y);
                    PgInterval d = toInterval(x instanceof Instant ? y : x);
                    yield addInterval(t, minus ? d.negate() : d);
                }
                default -> minus ? Values.toLong(x) - Values.toLong(y) : Values.toLong(x) + Values.toLong(y);
            };
        }, type);
    }

    private static PgInterval toInterval(Object v) {
        return v instanceof PgInterval i ? i : PgInterval.parse(v.toString());
    }

    private static Instant addInterval(Instant t, PgInterval d) {
        java.time.ZonedDateTime z = t.atZone(java.time.ZoneOffset.UTC).plusMonths(d.months()).plusDays(d.days());
        return z.toInstant().plusNanos(d.micros() * 1000);
    }

    private Typed function(Function f, List<Column> in, boolean selectList) {
        String name = f.getName().toLowerCase(Locale.ROOT);
        if (!AGGREGATES.contains(name)) {
            return functionCall(f, in, selectList);
        }
        if (aggregateDepth > 0) {
            throw new AdminSqlException(SqlState.GROUPING_ERROR, "aggregate function calls cannot be nested");
        }
        aggregates++;
        aggregateDepth++;
        try {
            return functionCall(f, in, selectList);
        } finally {
            aggregateDepth--;
        }
    }

    private Typed functionCall(Function f, List<Column> in, boolean selectList) {
        String name = f.getName().toLowerCase(Locale.ROOT);
        List<Expression> args = new ArrayList<>();
        if (f.getParameters() != null) {
            args.addAll(f.getParameters());
        }
        if (f.isDistinct() || f.getOrderByElements() != null) {
            throw AdminSqlException.unsupported("DISTINCT or ORDER BY inside " + name + "()");
        }
        switch (name) {
            case "now", "current_timestamp", "statement_timestamp", "transaction_timestamp", "clock_timestamp" -> {
                arity(name, args, 0);
                return new Typed(r -> r.env().now(), PgType.TIMESTAMPTZ, name, false);
            }
            case "count" -> {
                if (f.isAllColumns() || args.isEmpty() || (args.size() == 1 && args.get(0) instanceof AllColumns)) {
                    return new Typed(r -> (long) r.group().size(), PgType.INT8, "count", true);
                }
                arity(name, args, 1);
                Expr x = expr(args.get(0), in).expr;
                return new Typed(r -> r.group().stream().filter(row -> x.eval(new Row(row, null, r.env())) != null).count(),
                        PgType.INT8, "count", true);
            }
            case "min", "max" -> {
                arity(name, args, 1);
                Typed t = expr(args.get(0), in);
                boolean max = name.equals("max");
                return new Typed(r -> {
                    Object best = null;
                    for (Object[] row : r.group()) {
                        Object v = t.expr.eval(new Row(row, null, r.env()));
                        if (v != null && (best == null || (Values.compare(v, best) > 0) == max && Values.compare(v, best) != 0)) {
                            best = v;
                        }
                    }
                    return best;
                }, t.type, name, true);
            }
            case "lower", "upper", "length" -> {
                arity(name, args, 1);
                Expr x = expr(args.get(0), in).expr;
                return new Typed(r -> nullOr(x.eval(r), v -> switch (name) {
                    case "lower" -> Values.toText(v).toLowerCase(Locale.ROOT);
                    case "upper" -> Values.toText(v).toUpperCase(Locale.ROOT);
                    default -> Values.toText(v).codePointCount(0, Values.toText(v).length());
                }), name.equals("length") ? PgType.INT4 : PgType.TEXT, name, false);
            }
            case "coalesce" -> {
                List<Typed> ts = new ArrayList<>();
                for (Expression a : args) {
                    ts.add(expr(a, in));
                }
                if (ts.isEmpty()) {
                    arity(name, args, 1);
                }
                return new Typed(r -> {
                    for (Typed t : ts) {
                        Object v = t.expr.eval(r);
                        if (v != null) {
                            return v;
                        }
                    }
                    return null;
                }, ts.get(0).type, name, false);
            }
            case "md_current_client_connection_id" -> {
                arity(name, args, 0);
                return new Typed(r -> VirtualTable.uuid(r.env().caller().sessionId()), PgType.UUID, name, false);
            }
            case "md_interrupt_server_connection" -> {
                arity(name, args, 1);
                if (!selectList) {
                    throw AdminSqlException.unsupported("md_interrupt_server_connection() outside the select list");
                }
                callsInterrupt = true;
                Typed t = expr(args.get(0), in);
                return new Typed(r -> nullOr(t.expr.eval(r), v -> new PendingInterrupt(Values.toUuid(v))), PgType.BOOL, name, t.aggregate);
            }
            default -> throw new AdminSqlException(SqlState.FEATURE_NOT_SUPPORTED,
                    "function " + name + "() is not supported in a session-control statement", SUPPORTED_HINT, 0);
        }
    }

    private static void arity(String name, List<Expression> args, int n) {
        if (args.size() != n) {
            throw new AdminSqlException(SqlState.UNDEFINED_FUNCTION,
                    "function " + name + "() takes " + n + " argument" + (n == 1 ? "" : "s") + ", not " + args.size());
        }
    }

    static String unquote(String name) {
        if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
            return name.substring(1, name.length() - 1).replace("\"\"", "\"");
        }
        return name.toLowerCase(Locale.ROOT);
    }
}
