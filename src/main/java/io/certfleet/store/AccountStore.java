package io.certfleet.store;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.StoredAccount;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;

/** ACME accounts per environment and directory; private keys are encrypted with the {@link SecretBox}. */
public final class AccountStore {
    private final Store store;
    private final SecretBox box;

    public AccountStore(Store store, SecretBox box) {
        this.store = store;
        this.box = box;
    }

    static String context(CaEnvironment env, String directoryUrl) {
        return "acme_account:" + env.wire() + ":" + directoryUrl;
    }

    /**
     * Stores a new account unless another node stored one for the same environment and directory first; returns
     * the account that is stored (ours, or the one that won).
     */
    public StoredAccount saveOrGet(CaEnvironment env, String directoryUrl, String accountUrl, char[] keyPem) {
        try {
            return save(env, directoryUrl, accountUrl, keyPem);
        } catch (RuntimeException e) {
            return find(env, directoryUrl).orElseThrow(() -> e);
        }
    }

    /** Stores a new account; its key is encrypted before it reaches the database. */
    public StoredAccount save(CaEnvironment env, String directoryUrl, String accountUrl, char[] keyPem) {
        byte[] plain = toBytes(keyPem);
        try {
            byte[] ct = box.encrypt(plain, context(env, directoryUrl));
            return store.inTransaction(s -> {
                // first: a key rotation that committed meanwhile makes this refuse instead of storing an old-key secret
                s.doWork(c -> SecretKeys.requireCurrent(c, ct, env.wire() + " ACME account " + accountUrl));
                var e = new AcmeAccountEntity();
                e.environment = env.wire();
                e.directoryUrl = directoryUrl;
                e.accountUrl = accountUrl;
                e.keyCiphertext = ct;
                e.createdAt = Instant.now();
                s.persist(e);
                return new StoredAccount(e.id, env, directoryUrl, accountUrl, keyPem.clone());
            });
        } finally {
            Arrays.fill(plain, (byte) 0);
        }
    }

    /** The account of {@code env} at {@code directoryUrl}, decrypted, if one was created before. */
    public Optional<StoredAccount> find(CaEnvironment env, String directoryUrl) {
        return store.inTransaction(s -> s.createSelectionQuery(
                        "from AcmeAccountEntity a where a.environment = :env and a.directoryUrl = :dir", AcmeAccountEntity.class)
                .setParameter("env", env.wire()).setParameter("dir", directoryUrl)
                .uniqueResultOptional()
                .map(e -> {
                    byte[] plain = box.decrypt(e.keyCiphertext, context(env, directoryUrl));
                    try {
                        return new StoredAccount(e.id, env, directoryUrl, e.accountUrl, toChars(plain));
                    } finally {
                        Arrays.fill(plain, (byte) 0);
                    }
                }));
    }

    /** The id of the account stored for {@code env} at {@code directoryUrl}, without decrypting anything. */
    public Optional<Long> accountId(CaEnvironment env, String directoryUrl) {
        return store.inTransaction(s -> s.createSelectionQuery(
                        "select a.id from AcmeAccountEntity a where a.environment = :env and a.directoryUrl = :dir", Long.class)
                .setParameter("env", env.wire()).setParameter("dir", directoryUrl).uniqueResultOptional());
    }

    /** Remembers whether the account's directory offered ARI ({@code renewalInfo}) at the last connect. */
    public void recordRenewalInfo(long accountId, boolean offered) {
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c,
                "UPDATE acme_account SET renewal_info = ? WHERE id = ?", offered, accountId)));
    }

    /** Whether the directory of the account stored for {@code env} at {@code directoryUrl} offered ARI when last seen. */
    public boolean renewalInfo(CaEnvironment env, String directoryUrl) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c,
                "SELECT renewal_info FROM acme_account WHERE environment = ? AND directory_url = ?",
                rs -> rs.getBoolean(1), env.wire(), directoryUrl).stream().findFirst().orElse(false)));
    }

    /** The account URL stored for {@code env} (any directory), without decrypting anything. */
    public Optional<String> accountUrl(CaEnvironment env) {
        return store.inTransaction(s -> s.createSelectionQuery(
                        "select a.accountUrl from AcmeAccountEntity a where a.environment = :env order by a.id desc", String.class)
                .setParameter("env", env.wire()).setMaxResults(1).uniqueResultOptional());
    }

    /**
     * The stored account URL of {@code env}, read with one short JDBC connection — only if the database is
     * already reachable (an external server, or the embedded one while another certfleet process runs); never
     * starts a server. Empty when there is no database to ask or no account yet.
     */
    public static Optional<String> lookupAccountUrl(io.certfleet.config.Settings.Database db, CaEnvironment env) {
        String url;
        java.util.Properties props = new java.util.Properties();
        if (db.embedded()) {
            url = "jdbc:postgresql://127.0.0.1:" + db.embeddedPort() + "/postgres";
            props.setProperty("user", EmbeddedPassword.USER);
            try {
                EmbeddedPassword.read(EmbeddedPassword.fileFor(db.embeddedDataDir()))
                        .ifPresent(p -> props.setProperty("password", p));
            } catch (RuntimeException e) {
                return Optional.empty(); // unreadable password file: the command that needs the database says why
            }
            try (var socket = new java.net.Socket()) {
                socket.connect(new java.net.InetSocketAddress("127.0.0.1", db.embeddedPort()), 300);
            } catch (java.io.IOException e) {
                return Optional.empty();
            }
        } else {
            url = db.url().orElseThrow();
            props.setProperty("user", db.user());
            db.password().ifPresent(p -> props.setProperty("password", p));
        }
        props.setProperty("connectTimeout", "3");
        try (var c = java.sql.DriverManager.getConnection(url, props);
             var ps = c.prepareStatement("SELECT account_url FROM acme_account WHERE environment = ? ORDER BY id DESC LIMIT 1")) {
            ps.setString(1, env.wire());
            try (var rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        } catch (java.sql.SQLException e) {
            org.slf4j.LoggerFactory.getLogger(AccountStore.class)
                    .debug("precheck: no stored {} account URL ({})", env.wire(), e.getMessage());
            return Optional.empty();
        }
    }

    private static byte[] toBytes(char[] chars) {
        ByteBuffer bb = StandardCharsets.UTF_8.encode(CharBuffer.wrap(chars));
        byte[] out = Arrays.copyOf(bb.array(), bb.limit());
        Arrays.fill(bb.array(), (byte) 0);
        return out;
    }

    private static char[] toChars(byte[] bytes) {
        CharBuffer cb = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(bytes));
        char[] out = Arrays.copyOf(cb.array(), cb.limit());
        Arrays.fill(cb.array(), '\0');
        return out;
    }
}
