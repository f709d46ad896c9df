/**
 * Training: AdamW over the model's flat buffers, learning-rate warm-up and cosine decay,
 * gradient clipping by global norm, FAVOR+ feature redraws, evaluation, a CSV log, and
 * checkpoints in the safetensors format, written atomically, from which a run resumes exactly.
 */
package dev.performer.train;
