/**
 * The binary interface between the TypeScript host and the AssemblyScript kernel. This one file is compiled by
 * both `tsc` and `asc` (it holds integer constants only), so the two sides cannot drift apart.
 *
 * A call writes a context of CTX_SLOTS 32-bit slots at CTX_PTR: sizes, element strides, byte pointers into the
 * shared memory. Strides are in float elements; pointers in bytes. The scale is split as scale = QSCALE · SCALE with
 * QSCALE a power of two (applied exactly to q when it is packed) and SCALE in [1, 2) (applied to each summed dot
 * product), so a dot product overflows float32 only where the score itself does; both slots hold f32 bits.
 */

// Problem sizes.
export const C_B = 0;
export const C_HQ = 1;
export const C_HKV = 2;
export const C_SQ = 3;
export const C_SK = 4;
export const C_D = 5;
export const C_DV = 6;
export const C_GROUP = 7;
export const C_BQ = 8;
export const C_BK = 9;
export const C_NQB = 10;
export const C_NKB = 11;
export const C_WPR = 12;
// Tensors in the request layout: pointer, then row / head / batch strides in elements.
export const C_Q = 13;
export const C_Q_ROW = 14;
export const C_Q_HEAD = 15;
export const C_Q_BATCH = 16;
export const C_K = 17;
export const C_K_ROW = 18;
export const C_K_HEAD = 19;
export const C_K_BATCH = 20;
export const C_V = 21;
export const C_V_ROW = 22;
export const C_V_HEAD = 23;
export const C_V_BATCH = 24;
export const C_O = 25;
export const C_O_ROW = 26;
export const C_O_HEAD = 27;
export const C_O_BATCH = 28;
/** K transposed per key block: [B][Hkv][numKBlocks][blockK / 8][D][8], zero padded. */
export const C_KT = 29;
/** Per query row (m, l): max score in log2 units and softmax denominator, f32 pairs [B][Hq][Sq]. */
export const C_ML = 30;
/** Head table: core's packed rows, HEAD_WORDS i32 per query head. */
export const C_HEADS = 31;
export const C_SCALE = 32;
/** Three i32 chunk counters (indexed by PHASE_PREP, PHASE_TOPK, PHASE_ATTEND), then the abort flag. */
export const C_COUNTERS = 33;
export const C_ABORT = 34;
/** Chunk tables: pairs [start, end) of task indices. */
export const C_PREP_CHUNKS = 35;
export const C_PREP_N = 36;
export const C_TOPK_CHUNKS = 37;
export const C_TOPK_N = 38;
export const C_ATT_CHUNKS = 39;
export const C_ATT_N = 40;
/** Per-worker scratch: base pointer and bytes per worker. */
export const C_SCRATCH = 41;
export const C_SCRATCH_STRIDE = 42;
/** Top-k: per-row threshold (f32) and tie cut (i32), [B][Hq][Sq]. */
export const C_THR = 43;
export const C_TIE = 44;
/** Cluster: query labels [B][Hq][Sq] (i32). */
export const C_LABELQ = 45;
/** Label jobs (LJ_SLOTS slots each) run in the prep phase after the K transposition tasks. */
export const C_LJOBS = 46;
export const C_LJOBS_N = 47;
/** Top-k candidate columns per query block (max listed key blocks · blockK over top-k heads). */
export const C_MAXCOLS = 48;
/** Offsets of the scratch parts inside one worker's scratch. */
export const C_SC_S = 49;
export const C_SC_M = 50;
export const C_SC_L = 51;
export const C_SC_CORR = 52;
export const C_SC_ACC = 53;
export const C_SC_CAND = 54;
export const C_SC_SEL = 55;
/** Row stride of the accumulator tile in elements (Dv rounded up to 8). */
export const C_DVA = 56;
/** Number of K transposition tasks (B · Hkv · numKBlocks); prep task ids past it are label jobs. */
export const C_PREP_NT = 57;
/** Scratch part: the task's query rows packed in groups of four, [groups][D][4]. */
export const C_SC_QP = 58;
/** The power-of-two part of the scale (f32 bits), see above. */
export const C_QSCALE = 59;
/** Keys whose v row has a non-finite value: i32 0 or -1 per key, [B][Hkv][numKBlocks · blockK]. */
export const C_VBAD = 60;
/** Whether a key block has any such key: i32 0 or 1 per block, [B][Hkv][numKBlocks]. */
export const C_VBAD_BLOCK = 61;
/** Workers that have a scratch area (threads past it take no work; see layout.ts). */
export const C_NSCRATCH = 62;
/** The distinct masks' arrays, concatenated (i32 each; the head table's offsets point into them). */
export const C_ROW_PTR = 63;
export const C_COL_IDX = 64;
/** Runs parallel to colIdx: a head's HEAD_COL_IDX offset is its offset here too. */
export const C_PARTIAL_IDX = 65;
export const C_BITS = 66;
/** Cluster: key labels of each label group (HEAD_LABELS), [labelGroups][B][numKBlocks · blockK] (i32). */
export const C_LABEL_K = 67;
/** Scratch part: the located task (see Task in assembly/phases.ts), TASK_BYTES. */
export const C_SC_TASK = 68;
/**
 * Kᵀ blocks per (batch entry, kv head) at C_KT, and key blocks per (batch entry, kv head) of the flags at C_VBAD /
 * C_VBAD_BLOCK and of the v rows at C_V: logical key block kb is stored at block kb mod C_KT_BLOCKS. A call's own
 * copy has numKBlocks (kb < numKBlocks: the identity); a resident KV cache kept as a ring has its own block count.
 */
export const C_KT_BLOCKS = 69;
/**
 * Query heads per attention task. 1: a task is (query head, batch entry, query block). More (only with Sq = 1, every
 * head of a kv group sharing one head-table row): a task is that many heads of one kv group, one row each, packed into
 * the kernel's four-row groups as if they were rows, so a kv head's keys and values are read once for all of them.
 */
export const C_HEAD_PACK = 70;
/**
 * 1: V at C_V is stored as tiles, not rows (a KV cache): per stored key block (C_KT_BLOCKS of them per (batch entry,
 * kv head)) [Dv8 / 8][blockK][8] with Dv8 = Dv rounded up to 8, zero padded, so one 8-wide slice of a block's keys is
 * blockK · 32 contiguous bytes (the P·V pass streams them). 0: v rows in the request layout (C_V_ROW, …).
 */
export const C_V_TILED = 71;
/**
 * Split-K: attention task t is key split t mod C_SPLITS of located task t / C_SPLITS (1: no split). A split runs
 * its share of the task's listed key blocks and writes a partial record per row at C_PARTIALS (SPLIT_HEAD floats
 * [m, l, 0, 0], then the unnormalised accumulator row of C_DVA floats), [task][split][blockQ rows]; the split that
 * finishes last (the i32 counter of its task at C_SPLIT_DONE reaching C_SPLITS) merges the records into the output.
 */
export const C_SPLITS = 72;
export const C_PARTIALS = 73;
export const C_SPLIT_DONE = 74;
/**
 * Residue prep (a dilated call's groups run in place): C_RESIDUES = d > 0 makes prep task t = (b · Hkv + hk) ·
 * C_RES_BLOCKS + kb read the d · blockK consecutive key rows from (kb · blockK) · d of the whole K and V (C_K, C_V,
 * C_SK keys) and write key block kb of every residue group r (keys j ≡ r mod d, group key (j − r) / d): its Kᵀ block,
 * its V tile (see C_V_TILED) and its v flags, in per-group regions C_RES_KT, C_RES_VT, C_RES_VBAD, C_RES_VBAD_BLOCK
 * of C_RES_BLOCKS blocks per (batch entry, kv head). Each group's attend phase then reads them as a KV cache's.
 */
export const C_RESIDUES = 75;
export const C_RES_BLOCKS = 76;
export const C_RES_KT = 77;
export const C_RES_VT = 78;
export const C_RES_VBAD = 79;
export const C_RES_VBAD_BLOCK = 80;
/**
 * Chained contexts: the byte address of the next context whose phases run in the same dispatch as this one's (0:
 * none). A dilated call's residue groups are chained, so a thread that finds every task of one group
 * taken goes on to the next group instead of waiting for the other threads at the end of each group.
 */
export const C_NEXT = 81;
export const CTX_SLOTS = 84;

/** Floats before the accumulator row in a split's partial record (m, l and padding to 16 bytes). */
export const SPLIT_HEAD = 4;

/** Bytes of one worker's task record (13 i32 / pointer fields, rounded up). */
export const TASK_BYTES = 64;

// The phases of a call, in order: the index of each one's chunk counter, and of its chunk table slots.
export const PHASE_PREP = 0;
export const PHASE_TOPK = 1;
export const PHASE_ATTEND = 2;

// The head table (HEAD_WORDS words per query head) is core's packed table as it is: its layout and modes
// (HEAD_ROW_PTR, HEAD_MODE, MODE_TOPK, …) come from core's headTableSource(), generated into
// assembly/head-table.ts at build time. Its offsets count elements of the concatenated mask arrays, whose byte
// base pointers are the context slots below.

// Label job slots: rows of a tensor labelled against unit centroids (f64 [C][D]); LJ_UNIT is a byte pointer.
export const LJ_SRC = 0;
export const LJ_STRIDE = 1;
export const LJ_ROWS = 2;
export const LJ_UNIT = 3;
export const LJ_C = 4;
export const LJ_DST = 5;
export const LJ_SLOTS = 6;

// Return codes of the phase entry points.
export const RC_DONE = 0;
export const RC_ABORTED = 1;
export const RC_MORE = 2;

/** Longest run of adjacent key blocks the fused kernel takes as one (one softmax update, one P·V pass). */
export const RUN_KEYS = 32;

/** Fixed addresses of the control page. Arena allocations start at ARENA_BASE. */
export const CTX_PTR = 1024;
export const ARENA_BASE = 65536;
export const COUNTERS_PTR = 1536;
/** Bytes of a context placed elsewhere than CTX_PTR (a chained one): its CTX_SLOTS slots, then its three counters. */
export const CHAINED_CTX_BYTES = CTX_SLOTS * 4 + 16;
export const ABORT_PTR = 1548;
