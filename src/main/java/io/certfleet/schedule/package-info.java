/**
 * Scheduling: Quartz with the clustered JDBC job store on certfleet's database, and thin jobs that each run one
 * task (a pipeline step, housekeeping), catch everything, log once with their subject and keep their trigger.
 */
package io.certfleet.schedule;
