package io.pgbailiff.adminsql;

/**
 * SPEC §2.5, modelled on PostgreSQL's {@code pg_stat_activity} and {@code pg_cancel_backend}.
 *
 * <ul>
 *   <li>A row is visible when the caller may read its text (own, superuser, admin role,
 *       pg_read_all_stats) or may cancel it. The second case is a pg_signal_backend member looking at
 *       another user's non-superuser session: as in pg_stat_activity, that member sees the row (so it can
 *       find what to cancel) but not the query text, which reads {@code <insufficient privilege>}.</li>
 *   <li>Cancel: own sessions always; a superuser's session only by a superuser (this wins over the admin
 *       role, as in PostgreSQL); any other session by superusers, admin-role and pg_signal_backend members.</li>
 * </ul>
 */
public final class Privileges {
    public static final String HIDDEN_TEXT = "<insufficient privilege>";

    private Privileges() {
    }

    public static boolean isOwn(Caller caller, SessionSnapshot target) {
        return caller.userName() != null && caller.userName().equals(target.userName());
    }

    public static boolean canSeeText(Caller caller, SessionSnapshot target) {
        return isOwn(caller, target) || caller.superuser() || caller.adminRole() || caller.readAllStats();
    }

    public static boolean canSee(Caller caller, SessionSnapshot target) {
        return canSeeText(caller, target) || canCancel(caller, target);
    }

    public static boolean canCancel(Caller caller, SessionSnapshot target) {
        if (isOwn(caller, target)) {
            return true;
        }
        if (target.superuser()) {
            return caller.superuser();
        }
        return caller.superuser() || caller.adminRole() || caller.signalBackend();
    }

    /** The query text as this caller may see it. */
    static String text(Caller caller, SessionSnapshot target, String text) {
        if (text == null) {
            return null;
        }
        return canSeeText(caller, target) ? text : HIDDEN_TEXT;
    }
}
