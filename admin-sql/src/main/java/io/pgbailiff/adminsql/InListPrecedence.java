package io.pgbailiff.adminsql;

import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.NotExpression;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.conditional.OrExpression;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;

import java.util.ArrayList;
import java.util.List;

/**
 * Puts back the operators JSqlParser 5.3 hands to the right side of an IN. It reads
 * {@code a IN ('x') AND b = 1 OR c = 2} as {@code a IN (('x') AND b = 1 OR c = 2)}: the list (or
 * subquery) swallows every AND and OR after it, and even a NOT in front of the IN covers them. This
 * lays the chain out again as operands between ANDs and ORs, each IN with its own list, and
 * rebuilds it with SQL's precedence (NOT, then AND, then OR), so the statement means what
 * PostgreSQL would take it to mean. Parenthesised groups stay as they were written.
 */
final class InListPrecedence {
    private enum Operator { AND, OR }

    private InListPrecedence() {
    }

    /** Whether this boolean chain holds an IN whose list swallowed the operators after it. */
    static boolean isSwallowed(Expression e) {
        if (e instanceof AndExpression a) {
            return isSwallowed(a.getLeftExpression()) || isSwallowed(a.getRightExpression());
        }
        if (e instanceof OrExpression o) {
            return isSwallowed(o.getLeftExpression()) || isSwallowed(o.getRightExpression());
        }
        if (e instanceof NotExpression n) {
            return isSwallowed(n.getExpression());
        }
        return e instanceof InExpression i
                && (i.getRightExpression() instanceof AndExpression || i.getRightExpression() instanceof OrExpression);
    }

    /** The chain rebuilt; unchanged if its first operand after an IN is not a list or subquery. */
    static Expression repair(Expression e) {
        List<Object> chain = new ArrayList<>();
        if (!layOut(e, chain)) {
            return e;
        }
        Expression any = null;
        Expression all = null;
        for (int i = 0; i < chain.size(); i += 2) {
            Expression operand = (Expression) chain.get(i);
            all = all == null ? operand : new AndExpression(all, operand);
            if (i + 1 == chain.size() || chain.get(i + 1) == Operator.OR) {
                any = any == null ? all : new OrExpression(any, all);
                all = null;
            }
        }
        return any;
    }

    /** Appends operands and operators in the order they were written; false if the shape is not the known one. */
    private static boolean layOut(Expression e, List<Object> chain) {
        if (e instanceof AndExpression a) {
            return layOut(a.getLeftExpression(), chain) && chain.add(Operator.AND) && layOut(a.getRightExpression(), chain);
        }
        if (e instanceof OrExpression o) {
            return layOut(o.getLeftExpression(), chain) && chain.add(Operator.OR) && layOut(o.getRightExpression(), chain);
        }
        if (e instanceof NotExpression n && isSwallowed(n.getExpression())) {
            int first = chain.size();
            if (!layOut(n.getExpression(), chain)) {
                return false;
            }
            chain.set(first, new NotExpression((Expression) chain.get(first)));
            return true;
        }
        if (e instanceof InExpression in && isSwallowed(in)) {
            int first = chain.size();
            if (!layOut(in.getRightExpression(), chain)) {
                return false;
            }
            Object list = chain.get(first);
            if (!(list instanceof ExpressionList<?> || list instanceof ParenthesedSelect)) {
                return false;
            }
            InExpression own = new InExpression(in.getLeftExpression(), (Expression) list);
            own.setNot(in.isNot());
            chain.set(first, own);
            return true;
        }
        chain.add(e);
        return true;
    }
}
