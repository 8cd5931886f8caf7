package io.certfleet;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.properties.HasName;
import com.tngtech.archunit.core.domain.properties.HasOwner;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/** Holds the package edges of docs/architecture.md (and ../shared/STYLE.md). */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.certfleet");
    }

    @Test
    void acme4jOnlyInAcme() {
        noClasses().that().resideOutsideOfPackage("io.certfleet.acme..")
                .should().dependOnClassesThat().resideInAPackage("org.shredzone.acme4j..")
                .allowEmptyShould(true).check(classes);
    }

    @Test
    void dnsjavaOnlyInCaaAndChallenge() {
        noClasses().that().resideOutsideOfPackages("io.certfleet.caa..", "io.certfleet.challenge..")
                .should().dependOnClassesThat().resideInAPackage("org.xbill.DNS..")
                .allowEmptyShould(true).check(classes);
    }

    @Test
    void hibernateAndJdbcOnlyInStore() {
        noClasses().that().resideOutsideOfPackage("io.certfleet.store..")
                .should().dependOnClassesThat().resideInAnyPackage("org.hibernate..", "jakarta.persistence..",
                        "org.flywaydb..", "com.zaxxer.hikari..", "io.zonky..")
                .check(classes);
    }

    @Test
    void quartzOnlyInScheduleAndApp() {
        noClasses().that().resideOutsideOfPackages("io.certfleet.schedule..", "io.certfleet.app..")
                .should().dependOnClassesThat().resideInAPackage("org.quartz..")
                .check(classes);
    }

    @Test
    void picocliOnlyInCli() {
        noClasses().that().resideOutsideOfPackage("io.certfleet.cli..")
                .should().dependOnClassesThat().resideInAPackage("picocli..")
                .check(classes);
    }

    /**
     * STYLE.md habit 7: the daemon polls with {@code fetch()} and reschedules at the CA's Retry-After; acme4j's
     * blocking helpers park the calling thread in a sleep loop, so no class in main may call them.
     */
    @Test
    void noThreadIsParkedInAcme4jsPollingHelpers() {
        noClasses().should().callMethodWhere(PARKING_ACME4J_CALL)
                .because("a scheduler thread must never sleep in a polling loop; poll with fetch() and honour Retry-After")
                .check(classes);
    }

    static final DescribedPredicate<JavaCall<?>> PARKING_ACME4J_CALL =
            JavaCall.Predicates.target(HasName.Predicates.nameMatching("waitForStatus|waitUntilReady|waitForCompletion"))
                    .and(JavaCall.Predicates.target(HasOwner.Predicates.With.owner(
                            JavaClass.Predicates.resideInAPackage("org.shredzone.acme4j.."))))
                    .as("acme4j's waitForStatus, waitUntilReady or waitForCompletion");

    /**
     * The model is the JDK plus ICU4J. ICU is there for one thing: {@code DomainName.parse} converts names with
     * UTS #46 non-transitional processing (IDNA2008), which the JDK lacks ({@code java.net.IDN} is IDNA2003 and
     * turns {@code straße.de} into the different domain {@code strasse.de}). ICU does no I/O and keeps no state, so
     * parsing stays a pure function of its input; moving it out of the model would split a value type from its
     * own validation. Only {@code Idna} may touch it.
     */
    @Test
    void modelDependsOnTheJdkAndIcuOnly() {
        noClasses().that().resideInAPackage("io.certfleet.model..")
                .should().dependOnClassesThat().resideOutsideOfPackages("java..", "io.certfleet.model..",
                        "com.ibm.icu..")
                .check(classes);
        noClasses().that().resideInAPackage("io.certfleet.model..").and().doNotHaveSimpleName("Idna")
                .should().dependOnClassesThat().resideInAPackage("com.ibm.icu..")
                .check(classes);
    }

    /** Edges docs/architecture.md's package table leaves out on purpose; held so the table stays true. */
    @Test
    void intakeHandsNamesToASinkPipelineSeesCaaOnlyThroughPrecheckerConfigIsJdkOnly() {
        noClasses().that().resideInAPackage("io.certfleet.intake..")
                .should().dependOnClassesThat().resideInAPackage("io.certfleet.store..").check(classes);
        noClasses().that().resideInAPackage("io.certfleet.pipeline..")
                .should().dependOnClassesThat().resideInAPackage("io.certfleet.caa..").check(classes);
        noClasses().that().resideInAPackage("io.certfleet.config..")
                .should().dependOnClassesThat().resideOutsideOfPackages("java..", "io.certfleet.config..")
                .check(classes);
    }

    @Test
    void batchPlanningIsPure() {
        noClasses().that().resideInAPackage("io.certfleet.batch..")
                .should().dependOnClassesThat().resideInAnyPackage("io.certfleet.store..", "io.certfleet.acme..",
                        "io.certfleet.caa..", "java.sql..", "java.net..", "java.io..")
                .allowEmptyShould(true).check(classes);
    }

    @Test
    void onlyCliAndAppSitAtTheTop() {
        noClasses().that().resideOutsideOfPackage("io.certfleet.cli..")
                .should().dependOnClassesThat().resideInAPackage("io.certfleet.cli..").check(classes);
        noClasses().that().resideOutsideOfPackages("io.certfleet.cli..", "io.certfleet.app..")
                .should().dependOnClassesThat().resideInAPackage("io.certfleet.app..").check(classes);
    }

    @Test
    void noCyclesBetweenPackages() {
        slices().matching("io.certfleet.(*)..").should().beFreeOfCycles().check(classes);
    }
}
