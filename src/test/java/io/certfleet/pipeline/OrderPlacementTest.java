package io.certfleet.pipeline;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

class OrderPlacementTest {
    private static List<Long> ids(int n) {
        return LongStream.rangeClosed(1, n).boxed().toList();
    }

    @Test
    void aBatchOverTheCasLimitIsCutIntoTheFewestEvenPartsInOrder() {
        assertThat(OrderPlacement.parts(ids(10), 4)).containsExactly(List.of(1L, 2L, 3L, 4L), List.of(5L, 6L, 7L),
                List.of(8L, 9L, 10L));
        assertThat(OrderPlacement.parts(ids(8), 4)).containsExactly(List.of(1L, 2L, 3L, 4L), List.of(5L, 6L, 7L, 8L));
        assertThat(OrderPlacement.parts(ids(100), 25)).hasSize(4).allSatisfy(p -> assertThat(p).hasSize(25));
        assertThat(OrderPlacement.parts(ids(101), 25)).hasSize(5).allSatisfy(p -> assertThat(p.size()).isBetween(20, 21));
        assertThat(OrderPlacement.parts(ids(101), 25).stream().flatMap(List::stream).toList()).isEqualTo(ids(101));
    }
}
