/** Nesting deeper than this is refused by both encoder and decoder (stack safety, cyclic values). */
export const MAX_DEPTH = 256;
