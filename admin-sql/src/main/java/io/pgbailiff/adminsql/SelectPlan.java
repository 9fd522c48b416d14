package io.pgbailiff.adminsql;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A compiled select over a session source: filter, group, project, sort, slice. */
final class SelectPlan {

    /** A compiled expression, evaluated against one row (or one group when aggregating). */
    interface Expr {
        Object eval(Row row);
    }

    /** The current row, and its group when the select aggregates. */
    record Row(Object[] values, List<Object[]> group, Env env) {
    }

    /** Where rows come from: a virtual table, a CTE or subselect, or nothing (one empty row). */
    interface Source {
        List<Column> columns();

        List<Object[]> rows(Env env);
    }

    record OrderKey(Expr expr, int outputIndex, boolean desc, boolean nullsFirst) {
    }

    Source source;
    Expr where;
    List<Expr> groupBy = List.of();
    Expr having;
    boolean aggregate;
    List<Column> columns = new ArrayList<>();
    List<Expr> outputs = new ArrayList<>();
    List<OrderKey> order = List.of();
    Expr limit;
    Expr offset;
    /** The select list calls md_interrupt_server_connection. */
    boolean callsInterrupt;

    List<Object[]> run(Env env) {
        List<Row> contexts = new ArrayList<>();
        List<Object[]> input = new ArrayList<>();
        for (Object[] r : source.rows(env)) {
            if (where == null || Boolean.TRUE.equals(where.eval(new Row(r, null, env)))) {
                input.add(r);
            }
        }
        if (aggregate) {
            Map<List<Object>, List<Object[]>> groups = new LinkedHashMap<>();
            for (Object[] r : input) {
                List<Object> key = new ArrayList<>();
                for (Expr g : groupBy) {
                    key.add(g.eval(new Row(r, null, env)));
                }
                groups.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
            }
            if (groups.isEmpty() && groupBy.isEmpty()) {
                groups.put(List.of(), List.of());
            }
            for (List<Object[]> g : groups.values()) {
                Row row = new Row(g.isEmpty() ? new Object[source.columns().size()] : g.get(0), g, env);
                if (having == null || Boolean.TRUE.equals(having.eval(row))) {
                    contexts.add(row);
                }
            }
        } else {
            for (Object[] r : input) {
                contexts.add(new Row(r, null, env));
            }
        }
        List<Object[][]> produced = new ArrayList<>();
        for (Row row : contexts) {
            Object[] out = new Object[outputs.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = outputs.get(i).eval(row);
            }
            Object[] keys = new Object[order.size()];
            for (int i = 0; i < keys.length; i++) {
                OrderKey k = order.get(i);
                keys[i] = k.outputIndex() >= 0 ? out[k.outputIndex()] : k.expr().eval(row);
            }
            produced.add(new Object[][] {out, keys});
        }
        if (!order.isEmpty()) {
            produced.sort(comparator());
        }
        long skip = offset == null ? 0 : count(offset, env, "OFFSET");
        long take = limit == null ? Long.MAX_VALUE : count(limit, env, "LIMIT");
        List<Object[]> result = new ArrayList<>();
        for (int i = 0; i < produced.size(); i++) {
            if (i >= skip && result.size() < take) {
                result.add(produced.get(i)[0]);
            }
        }
        return result;
    }

    private Comparator<Object[][]> comparator() {
        return (a, b) -> {
            for (int i = 0; i < order.size(); i++) {
                OrderKey k = order.get(i);
                Object x = a[1][i], y = b[1][i];
                int c;
                if (x == null || y == null) {
                    c = x == y ? 0 : (x == null) == k.nullsFirst() ? -1 : 1;
                } else {
                    c = Values.compare(x, y);
                    if (k.desc()) {
                        c = -c;
                    }
                }
                if (c != 0) {
                    return c;
                }
            }
            return 0;
        };
    }

    private static long count(Expr e, Env env, String what) {
        Object v = e.eval(new Row(new Object[0], null, env));
        if (v == null) {
            return what.equals("LIMIT") ? Long.MAX_VALUE : 0;
        }
        long n = Values.toLong(v);
        if (n < 0) {
            throw new AdminSqlException(what.equals("LIMIT") ? io.pgbailiff.protocol.SqlState.INVALID_ROW_COUNT_IN_LIMIT_CLAUSE
                    : io.pgbailiff.protocol.SqlState.INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE, what + " must not be negative");
        }
        return n;
    }

    @Override
    public String toString() {
        return "SelectPlan" + Arrays.toString(columns.toArray());
    }
}
