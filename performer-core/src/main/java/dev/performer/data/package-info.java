/**
 * The protein data path: a streaming FASTA reader (plain or gzip, multi-line records), the
 * amino-acid tokenizer (the paper's 25 letters and special tokens), a deterministic
 * train/validation split by a seeded hash of the record id, and batching for masked
 * (bidirectional) and next-token (causal) language modelling.
 */
package dev.performer.data;
