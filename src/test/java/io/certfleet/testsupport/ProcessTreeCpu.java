package io.certfleet.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * CPU time (user + system) used by this JVM and every process it started, alive or already reaped (Linux
 * {@code /proc}): what a test costs a machine whatever else runs on it, so a figure measured on a busy machine
 * still says something about an idle one (CPU seconds / cores is a lower bound of the wall time there).
 */
public final class ProcessTreeCpu {
    private static final double TICKS_PER_SECOND = 100.0; // USER_HZ

    private ProcessTreeCpu() {
    }

    /** CPU seconds used so far by this process tree; subtract two readings to cost a stretch of work. */
    public static double seconds() {
        long ticks = ticks(ProcessHandle.current().pid());
        for (ProcessHandle d : ProcessHandle.current().descendants().toList()) {
            ticks += ticks(d.pid());
        }
        return ticks / TICKS_PER_SECOND;
    }

    private static long ticks(long pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (NoSuchFileException gone) {
            return 0; // ended between the listing and the read: its parent has (or will have) its time
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // after "(comm)" comes field 3 (state); utime, stime, cutime and cstime are fields 14 to 17, and the last
        // two hold the time of the process's reaped children
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
    }
}
