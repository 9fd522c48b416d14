package io.pgbailiff.proxy;

/** Wording of failures for the one line a client or an operator gets. */
final class Errors {
    private Errors() {
    }

    /** The innermost cause's message: what actually went wrong, without the wrappers' prefixes. */
    static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null) {
            c = c.getCause();
        }
        if (c.getMessage() != null) {
            return c.getMessage();
        }
        // the native transport reports a missing Unix-domain socket file without a message
        return c instanceof java.io.FileNotFoundException ? "No such file or directory" : c.toString();
    }
}
