package io.certfleet.store;

import io.certfleet.model.CaEnvironment;

import java.util.ArrayList;
import java.util.List;

/**
 * The CA limits this node keeps to, written to {@code budget_limit} so the {@code v_budget} view can show use
 * against the limit (limits are configuration; the database would otherwise not know them).
 */
public final class BudgetLimitStore {
    private final Store store;

    public BudgetLimitStore(Store store) {
        this.store = store;
    }

    /** One limit: its name as in the reason code without {@code BUDGET_}, e.g. {@code NEW_ORDERS}. */
    public record Limit(String name, CaEnvironment environment, long value) {
    }

    /** Upserts the limits in one transaction, naming {@code node} as their source. */
    public void record(List<Limit> limits, String node) {
        if (limits.isEmpty()) {
            return;
        }
        List<String> names = new ArrayList<>();
        List<String> envs = new ArrayList<>();
        List<Long> values = new ArrayList<>();
        for (Limit l : limits) {
            names.add(l.name());
            envs.add(l.environment().wire());
            values.add(l.value());
        }
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c, """
                INSERT INTO budget_limit (limit_name, environment, limit_value, recorded_at, recorded_by)
                SELECT l.name, l.env, l.value, now(), ? FROM unnest(?::text[], ?::text[], ?::bigint[]) AS l(name, env, value)
                ON CONFLICT (limit_name, environment) DO UPDATE
                SET limit_value = excluded.limit_value, recorded_at = excluded.recorded_at,
                    recorded_by = excluded.recorded_by""",
                node, Jdbc.TextArray.of(names), Jdbc.TextArray.of(envs), Jdbc.LongArray.of(values))));
    }
}
