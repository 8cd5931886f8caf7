package io.certfleet.cli;

import io.certfleet.config.Settings;
import io.certfleet.store.Database;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "db-url", mixinStandardHelpOptions = true,
        description = "Print the JDBC URL and the psql command that reach certfleet's database.")
final class DbUrlCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Override
    public Integer call() {
        Settings.Database db = main.loadSettings().settings().database();
        if (db.embedded()) {
            int port = db.embeddedPort();
            Path passFile = Database.embeddedPasswordFile(db);
            // the password stays in its file (libpq password-file format): PGPASSFILE lets psql read it
            System.out.println("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres");
            System.out.println("PGPASSFILE=" + shellWord(passFile.toString()) + " psql -h 127.0.0.1 -p " + port + " -U postgres postgres");
            System.err.println("note: the password of user postgres is in " + passFile + " (mode 0600, readable by "
                    + "the user certfleet runs as); a JDBC client needs it as its password");
            if (!Files.isRegularFile(passFile)) {
                System.err.println("note: " + passFile + " does not exist yet; the embedded PostgreSQL's first "
                        + "start creates it");
            }
            if (!listening(port)) {
                System.err.println("note: the embedded PostgreSQL (" + db.embeddedDataDir()
                        + ") is not running now; it runs while 'certfleet daemon' (or another command) runs");
            }
        } else {
            String url = db.url().orElseThrow();
            System.out.println(url.replaceAll("(?i)(password=)[^&;]*", "$1****"));
            System.out.println("psql '" + toLibpq(url) + "'" + " # user " + db.user());
        }
        return Main.OK;
    }

    /** jdbc:postgresql://h:p/db?x → postgresql://h:p/db (credentials left out). */
    static String toLibpq(String jdbcUrl) {
        String u = jdbcUrl.substring("jdbc:".length());
        int q = u.indexOf('?');
        return q < 0 ? u : u.substring(0, q);
    }

    /** The path as one shell word: quoted when it holds anything but letters, digits and {@code _./-}. */
    static String shellWord(String s) {
        return s.matches("[A-Za-z0-9_./-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 300);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
