package io.pgbailiff.adminsql;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionIdTest {
    private static final SessionId ID = new SessionId(0x187a3c5e9d2b4f01L, 0x8000000000000001L);

    @Test
    void hexAndUuidFormsReadBackAsTheSameId() {
        assertEquals("187a3c5e9d2b4f018000000000000001", ID.hex());
        assertEquals("187a3c5e-9d2b-4f01-8000-000000000001", ID.uuid());
        assertEquals(ID, SessionId.parse(ID.hex()));
        assertEquals(ID, SessionId.parse(" " + ID.uuid().toUpperCase(java.util.Locale.ROOT) + " "));
    }

    @Test
    void equalityAndOrderAreByValueWithUnsignedHalves() {
        SessionId same = new SessionId(ID.high(), ID.low());
        assertEquals(ID, same);
        assertEquals(ID.hashCode(), same.hashCode());
        assertNotEquals(ID, new SessionId(ID.high(), ID.low() + 1));
        assertNotEquals(ID, new SessionId(ID.low(), ID.high()));
        assertTrue(new SessionId(-1L, 0).compareTo(new SessionId(1L, 0)) > 0, "the high half compares unsigned");
        assertTrue(new SessionId(1L, -1L).compareTo(new SessionId(1L, 1L)) > 0, "the low half compares unsigned");
        assertEquals(0, ID.compareTo(same));
        assertEquals(1L, ID.nodeId());
    }

    @Test
    void textThatIsNeitherFormIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> SessionId.parse("187a3c5e9d2b4f01800000000000000"));
        assertThrows(IllegalArgumentException.class, () -> SessionId.parse("187a3c5e9d2b4f01800000000000000g"));
    }
}
