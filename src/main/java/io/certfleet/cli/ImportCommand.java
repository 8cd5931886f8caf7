package io.certfleet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.app.Certfleet;
import io.certfleet.intake.DomainImporter;
import io.certfleet.intake.ImportListener;
import io.certfleet.intake.ImportResult;
import io.certfleet.intake.Rejection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "import", mixinStandardHelpOptions = true,
        description = {"Import domain names as pending: one per line, or name,customer (CSV).",
                "Bad lines are reported on stderr with their line number and cause; the rest is imported.",
                "Exit code 1 when any line was rejected; 2 when FILE is missing, a directory or unreadable."})
final class ImportCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE|-", defaultValue = "-",
            description = "file to read, or - for standard input (default)")
    String file;

    @Option(names = "--format", defaultValue = "text", description = "summary format: text or json")
    String format;

    @Override
    public Integer call() throws IOException {
        if (!format.equals("text") && !format.equals("json")) {
            throw new UsageException("--format must be text or json, not '" + format + "'");
        }
        InputStream in = file.equals("-") ? System.in : open(file);
        PrintStream err = System.err;
        boolean terminal = Terminal.stderrIsTerminal();
        try (in; Certfleet app = Certfleet.open(main.loadSettings())) {
            var importer = new DomainImporter(app.domains()::insertNew);
            long t0 = System.nanoTime();
            ImportResult r = importer.importFrom(in, new ImportListener() {
                @Override
                public void rejected(Rejection rejection) {
                    if (terminal) {
                        err.print("\r\033[K");
                    }
                    err.println("rejected " + rejection);
                }

                @Override
                public void progress(long lines, long added) {
                    if (terminal) {
                        err.printf("\r%,d lines read, %,d added", lines, added);
                    }
                }
            });
            if (terminal) {
                err.println();
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            print(r, ms);
            return r.rejected() > 0 ? Main.PROBLEMS : Main.OK;
        }
    }

    /**
     * Opens the input file. A file that is missing, a directory or unreadable is a usage error (exit 2), found before
     * the database is touched: the command was given the wrong input, its work did not find problems.
     */
    static InputStream open(String file) {
        Path path;
        try {
            path = Path.of(file);
        } catch (InvalidPathException e) {
            throw new UsageException("cannot read '" + file + "': not a valid path (" + e.getReason() + ")");
        }
        if (Files.isDirectory(path)) {
            throw new UsageException("cannot read '" + file + "': it is a directory; give a file, or - for standard "
                    + "input");
        }
        try {
            return Files.newInputStream(path);
        } catch (NoSuchFileException e) {
            throw new UsageException("cannot read '" + file + "': no such file");
        } catch (AccessDeniedException e) {
            throw new UsageException("cannot read '" + file + "': permission denied");
        } catch (IOException e) {
            throw new UsageException("cannot read '" + file + "': " + e.getMessage());
        }
    }

    private void print(ImportResult r, long ms) throws IOException {
        if (format.equals("json")) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lines", r.lines());
            m.put("added", r.added());
            m.put("already_known", r.alreadyKnown());
            m.put("duplicates", r.duplicates());
            m.put("rejected", r.rejected());
            m.put("skipped", r.skipped());
            m.put("elapsed_ms", ms);
            System.out.println(new ObjectMapper().writeValueAsString(m));
        } else {
            System.out.printf("%,d lines: %,d added, %,d already known, %,d duplicates, %,d rejected, %,d skipped (%,d ms)%n",
                    r.lines(), r.added(), r.alreadyKnown(), r.duplicates(), r.rejected(), r.skipped(), ms);
        }
    }
}
