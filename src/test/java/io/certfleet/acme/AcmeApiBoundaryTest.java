package io.certfleet.acme;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** acme4j stays inside this package: no other main package uses it, and no public signature here exposes it. */
class AcmeApiBoundaryTest {

    @Test
    void onlyTheAcmePackageUsesAcme4j() {
        JavaClasses main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.certfleet");
        ArchRuleDefinition.noClasses().that().resideOutsideOfPackage("io.certfleet.acme..")
                .should().dependOnClassesThat().resideInAPackage("org.shredzone.acme4j..")
                .allowEmptyShould(true).check(main);
    }

    @Test
    void publicSignaturesShowNoAcme4jType() {
        List<String> leaks = new ArrayList<>();
        for (Class<?> c : List.of(AcmeClient.class, CaAccount.class, AcmeSettings.class, CaDirectory.class,
                OrderState.class, AuthorizationState.class, Http01Proof.class, IssuedCertificate.class, Keys.class,
                CaStatus.class, CaRequest.class, CaException.class, CaRejectedException.class,
                CaRateLimitedException.class, CaUnavailableException.class, ProblemAttribution.class)) {
            assertThat(Modifier.isPublic(c.getModifiers())).as(c.getName()).isTrue();
            for (Executable e : Stream.concat(Stream.of(c.getDeclaredMethods()),
                    Stream.of(c.getDeclaredConstructors())).toList()) {
                if (!Modifier.isPublic(e.getModifiers())) {
                    continue;
                }
                List<Class<?>> types = new ArrayList<>(List.of(e.getParameterTypes()));
                if (e instanceof Method m) {
                    types.add(m.getReturnType());
                }
                for (Class<?> t : types) {
                    if (t.getName().startsWith("org.shredzone")) {
                        leaks.add(c.getSimpleName() + "." + e.getName() + " uses " + t.getName());
                    }
                }
            }
        }
        assertThat(leaks).isEmpty();
    }
}
