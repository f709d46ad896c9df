/**
 * Seeds: every random stream of initialization, batching, masking, dropout and FAVOR+ redraws is
 * derived from the user's seed in {@link dev.performer.random.Seeds}, so runs repeat and resume exactly.
 */
package dev.performer.random;
