package io.certfleet.cli;

import io.certfleet.app.Certfleet;
import io.certfleet.store.CertificateStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write fullchain.pem and privkey.pem (mode 0600) of a certificate for the serving layer.")
final class ExportCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Parameters(index = "0", paramLabel = "CERT_ID", description = "certificate id (see 'certfleet certs')")
    long id;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "directory to write into (created if missing)")
    Path dir;

    @Override
    public Integer call() throws IOException {
        try (Certfleet app = Certfleet.open(main.loadSettings())) {
            var store = new CertificateStore(app.store(), app.secrets());
            var cert = store.find(id).orElseThrow(() -> new UsageException("no certificate with id " + id));
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("fullchain.pem"), cert.chainPem(), StandardCharsets.US_ASCII);
            char[] key = store.privateKey(id);
            try {
                writePrivate(dir.resolve("privkey.pem"), key);
            } finally {
                Arrays.fill(key, '\0');
            }
            System.out.println("wrote " + dir.resolve("fullchain.pem") + " and " + dir.resolve("privkey.pem")
                    + " (certificate " + id + ", " + cert.names().size() + " names, valid until " + cert.notAfter() + ")");
            return Main.OK;
        }
    }

    /** Creates the key file with mode 0600 before any byte is written. */
    private static void writePrivate(Path file, char[] pem) throws IOException {
        Files.deleteIfExists(file);
        var perms = PosixFilePermissions.asFileAttribute(Set.of(
                java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                java.nio.file.attribute.PosixFilePermission.OWNER_WRITE));
        try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), perms);
             Writer w = Channels.newWriter(ch, StandardCharsets.US_ASCII)) {
            w.write(pem);
        }
    }
}
