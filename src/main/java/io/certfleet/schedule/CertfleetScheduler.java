package io.certfleet.schedule;

import org.quartz.CronScheduleBuilder;
import org.quartz.DisallowConcurrentExecution;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobDetail;
import org.quartz.JobExecutionContext;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;
import org.quartz.impl.StdSchedulerFactory;
import org.quartz.utils.ConnectionProvider;
import org.quartz.utils.DBConnectionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.ZoneId;
import java.util.Map;
import java.util.Properties;
import java.util.TimeZone;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Quartz with its clustered JDBC job store on certfleet's own PostgreSQL (tables from migration V2): several
 * daemons on one database share the schedule, each firing runs on exactly one node, and a node that dies has its
 * work recovered by another. Jobs are thin: each runs one named task, catches everything, logs it once with its
 * subject and keeps its trigger.
 */
public final class CertfleetScheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CertfleetScheduler.class);
    private static final String GROUP = "certfleet";

    private final Scheduler scheduler;
    private final Map<String, Runnable> tasks;

    private CertfleetScheduler(Scheduler scheduler, Map<String, Runnable> tasks) {
        this.scheduler = scheduler;
        this.tasks = tasks;
    }

    /** Creates (but does not start) a clustered scheduler on {@code dataSource}. */
    public static CertfleetScheduler create(DataSource dataSource, int threads) {
        String dsName = "certfleet-" + System.identityHashCode(dataSource);
        DBConnectionManager.getInstance().addConnectionProvider(dsName, new PoolProvider(dataSource));
        var p = new Properties();
        p.setProperty(StdSchedulerFactory.PROP_SCHED_INSTANCE_NAME, "certfleet");
        p.setProperty(StdSchedulerFactory.PROP_SCHED_INSTANCE_ID, "AUTO");
        p.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
        p.setProperty("org.quartz.threadPool.threadCount", Integer.toString(threads));
        p.setProperty("org.quartz.jobStore.class", "org.quartz.impl.jdbcjobstore.JobStoreTX");
        p.setProperty("org.quartz.jobStore.driverDelegateClass", "org.quartz.impl.jdbcjobstore.PostgreSQLDelegate");
        p.setProperty("org.quartz.jobStore.dataSource", dsName);
        p.setProperty("org.quartz.jobStore.tablePrefix", "qrtz_");
        p.setProperty("org.quartz.jobStore.isClustered", "true");
        p.setProperty("org.quartz.jobStore.clusterCheckinInterval", "10000");
        p.setProperty("org.quartz.jobStore.useProperties", "true");
        p.setProperty("org.quartz.jobStore.misfireThreshold", "60000");
        Map<String, Runnable> tasks = new ConcurrentHashMap<>();
        try {
            Scheduler s = new StdSchedulerFactory(p).getScheduler();
            s.setJobFactory((bundle, sched) -> new TaskJob(tasks));
            return new CertfleetScheduler(s, tasks);
        } catch (SchedulerException e) {
            throw new IllegalStateException("cannot create the Quartz scheduler: " + e.getMessage(), e);
        }
    }

    /**
     * Schedules {@code task} under {@code name} on a cron expression in {@code zone}. Re-scheduling the same name
     * replaces its trigger (so a changed cron in the configuration takes effect at the next start).
     */
    public void scheduleCron(String name, String cron, ZoneId zone, Runnable task) {
        tasks.put(name, task);
        JobDetail job = JobBuilder.newJob(TaskJob.class).withIdentity(name, GROUP).storeDurably()
                .requestRecovery(true).build();
        Trigger trigger = TriggerBuilder.newTrigger().withIdentity(name, GROUP).forJob(job)
                .withSchedule(CronScheduleBuilder.cronSchedule(cron).inTimeZone(TimeZone.getTimeZone(zone))
                        .withMisfireHandlingInstructionFireAndProceed())
                .build();
        try {
            scheduler.addJob(job, true);
            if (scheduler.checkExists(TriggerKey.triggerKey(name, GROUP))) {
                scheduler.rescheduleJob(TriggerKey.triggerKey(name, GROUP), trigger);
            } else {
                scheduler.scheduleJob(trigger);
            }
            log.info("schedule: {} runs on '{}' ({})", name, cron, zone);
        } catch (SchedulerException e) {
            throw new IllegalStateException("schedule: cannot schedule " + name + ": " + e.getMessage(), e);
        }
    }

    public void start() {
        try {
            scheduler.start();
            log.info("schedule: scheduler started (instance {})", scheduler.getSchedulerInstanceId());
        } catch (SchedulerException e) {
            throw new IllegalStateException("cannot start the Quartz scheduler: " + e.getMessage(), e);
        }
    }

    /** Fires {@code name} once now (on whichever node acquires it). */
    public void triggerNow(String name) throws SchedulerException {
        scheduler.triggerJob(JobKey.jobKey(name, GROUP));
    }

    /** Stops firing new jobs, waits for running ones, then shuts the scheduler down. */
    @Override
    public void close() throws SchedulerException {
        scheduler.standby();
        scheduler.shutdown(true);
    }

    /** Runs the task registered under the job's name; never lets an exception escape into Quartz. */
    @DisallowConcurrentExecution
    static final class TaskJob implements Job {
        private final Map<String, Runnable> tasks;

        TaskJob(Map<String, Runnable> tasks) {
            this.tasks = tasks;
        }

        @Override
        public void execute(JobExecutionContext context) {
            String name = context.getJobDetail().getKey().getName();
            Runnable task = tasks.get(name);
            if (task == null) {
                log.warn("schedule: job {} fired but this node has no task for it (older or newer version?)", name);
                return;
            }
            long t0 = System.nanoTime();
            try {
                task.run();
                log.debug("schedule: {} finished in {} ms", name, (System.nanoTime() - t0) / 1_000_000);
            } catch (RuntimeException | Error e) {
                log.error("schedule: {} failed after {} ms; its trigger stays and it runs again at the next firing",
                        name, (System.nanoTime() - t0) / 1_000_000, e);
            }
        }
    }

    private record PoolProvider(DataSource dataSource) implements ConnectionProvider {
        @Override
        public Connection getConnection() throws SQLException {
            return dataSource.getConnection();
        }

        @Override
        public void shutdown() {
            // the pool belongs to certfleet and is closed after the scheduler
        }

        @Override
        public void initialize() {
        }
    }
}
