package io.pgbailiff.proxy;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CancelKeysTest {

    @Test
    void everyClientGetsAnUnpredictableSecretOfItsBackendsLengthAcrossManyBatches() {
        CancelKeys keys = new CancelKeys();
        Set<ByteBuffer> secrets = new HashSet<>();
        Set<Integer> processIds = new HashSet<>();
        int clients = 2_000;
        for (int i = 0; i < clients; i++) {
            int length = i % 3 == 0 ? 32 : 4;
            CancelKeys.Entry entry = keys.issue(new CancelKeys.BackendKey(i, new byte[length]));
            assertEquals(length, entry.secret().length);
            secrets.add(ByteBuffer.wrap(entry.secret()));
            processIds.add(entry.processId());
        }
        assertEquals(clients, processIds.size(), "process ids are unique among live sessions");
        // 4-byte secrets may collide by chance (about 0.02% for 1,333 of them); a reused batch would not be by chance
        assertTrue(secrets.size() >= clients - 2, "distinct secrets: " + secrets.size());
    }

    @Test
    void aSecretLongerThanABatchIsStillDrawn() {
        CancelKeys keys = new CancelKeys();
        CancelKeys.Entry entry = keys.issue(new CancelKeys.BackendKey(7, new byte[2048]));
        assertEquals(2048, entry.secret().length);
        assertTrue(countZeros(entry.secret()) < 64, "random bytes, not an empty array");
    }

    @Test
    void onlyTheIssuedSecretFindsTheBackendKeyAndOnlyUntilRevoked() {
        CancelKeys keys = new CancelKeys();
        CancelKeys.BackendKey backend = new CancelKeys.BackendKey(4242, new byte[] {1, 2, 3, 4});
        CancelKeys.Entry entry = keys.issue(backend);
        assertSame(backend, keys.lookup(entry.processId(), entry.secret().clone()));
        byte[] wrong = entry.secret().clone();
        wrong[0] ^= 1;
        assertNull(keys.lookup(entry.processId(), wrong));
        assertNull(keys.lookup(entry.processId() + 1, entry.secret()));
        keys.revoke(entry);
        assertNull(keys.lookup(entry.processId(), entry.secret()));
    }

    private static int countZeros(byte[] bytes) {
        int zeros = 0;
        for (byte b : bytes) {
            zeros += b == 0 ? 1 : 0;
        }
        return zeros;
    }
}
