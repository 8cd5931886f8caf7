/**
 * Proofs of control for the CA. The pipeline publishes an HTTP-01 token through a
 * {@link io.certfleet.challenge.ChallengePublisher} ({@link io.certfleet.challenge.DatabaseHttp01Publisher} writes it
 * to the database) before it triggers the challenge, and withdraws it once the authorization is decided. Every node
 * runs an {@link io.certfleet.challenge.Http01Responder}, which answers the CA's
 * {@code GET /.well-known/acme-challenge/<token>} from the database through a short cache, so whichever node the
 * customer's proxy reaches can answer. Withdrawal drops the publishing node's cached copy at once; other nodes stop
 * serving a withdrawn token within the cache TTL. DNS-01 will be a second publisher here.
 */
package io.certfleet.challenge;
