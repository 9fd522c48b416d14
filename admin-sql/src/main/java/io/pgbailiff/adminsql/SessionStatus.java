package io.pgbailiff.adminsql;

/** What a session is doing, as shown in the {@code status} column. */
public enum SessionStatus {
    ACTIVE("ACTIVE"),
    IDLE("IDLE"),
    IDLE_IN_TRANSACTION("IDLE IN TRANSACTION"),
    IDLE_IN_FAILED_TRANSACTION("IDLE IN FAILED TRANSACTION"),
    CLOSED("CLOSED");

    private final String label;

    SessionStatus(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
