;; The import's per-value kernels in WebAssembly SIMD (128-bit): block-wise int4 quantisation and
;; bf16 → fp32 widening. Each is the JS function it replaces, operation for operation, so both
;; give the same bytes for every input (the JS stays as the reference and as the fallback):
;;   quantize    — quantizeRows / quantizeBlock in quantization/int4-blocks.ts (quantize_bf16:
;;                 the same from bf16, widened a block at a time as widen_bf16 widens)
;;   widen_bf16  — widenBfloat16 in numeric/half.ts
;;   narrow_f16  — float32ToFloat16 in numeric/half.ts
;; JS hands every pointer in (byte offsets into this module's memory, laid out by wasm/kernels.ts).
;; Regenerate the committed binary after an edit: npx tsx scripts/build-wasm.ts
(module
  (memory (export "memory") 1)

  ;; Quantises the [n, k] fp32 matrix at $w into the layout of int4-blocks.ts: codes at $packed
  ;; ([n, blocks, bs / 2]), fp32 scales at $scales ([n * blocks]) and, unless $sym, zero points at
  ;; $zps ([n, ceil(blocks / 2)], cleared here first).
  (func (export "quantize") (param $w i32) (param $n i32) (param $k i32) (param $bs i32) (param $sym i32)
        (param $packed i32) (param $scales i32) (param $zps i32)
    (call $quantize_rows (local.get $w) (local.get $n) (local.get $k) (local.get $bs) (local.get $sym)
      (local.get $packed) (local.get $scales) (local.get $zps) (i32.const -1)))

  ;; As quantize, from the bf16 bit patterns of the [n, k] matrix at $w: each block is widened into
  ;; the 4 · bs bytes at $scratch just before it is quantised (exact, so the same bytes as widening
  ;; the whole matrix first), so the fp32 values never leave the core's L1 cache.
  (func (export "quantize_bf16") (param $w i32) (param $n i32) (param $k i32) (param $bs i32) (param $sym i32)
        (param $packed i32) (param $scales i32) (param $zps i32) (param $scratch i32)
    (call $quantize_rows (local.get $w) (local.get $n) (local.get $k) (local.get $bs) (local.get $sym)
      (local.get $packed) (local.get $scales) (local.get $zps) (local.get $scratch)))

  ;; quantize's rows; $scratch is −1 for fp32 at $w, else where each bf16 block is widened.
  (func $quantize_rows (param $w i32) (param $n i32) (param $k i32) (param $bs i32) (param $sym i32)
        (param $packed i32) (param $scales i32) (param $zps i32) (param $scratch i32)
    (local $blocks i32) (local $blob i32) (local $zpRow i32) (local $row i32) (local $b i32)
    (local $len i32) (local $zp i32) (local $at i32) (local $p i32)
    (local.set $blocks (i32.div_u (i32.sub (i32.add (local.get $k) (local.get $bs)) (i32.const 1)) (local.get $bs)))
    (local.set $blob (i32.shr_u (local.get $bs) (i32.const 1)))
    (local.set $zpRow (i32.shr_u (i32.add (local.get $blocks) (i32.const 1)) (i32.const 1)))
    (if (i32.eqz (local.get $sym))
      (then (memory.fill (local.get $zps) (i32.const 0) (i32.mul (local.get $n) (local.get $zpRow)))))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $n)))
        (local.set $b (i32.const 0))
        (block $blocks_done
          (loop $each_block
            (br_if $blocks_done (i32.ge_u (local.get $b) (local.get $blocks)))
            ;; len = min(k, (b + 1) · bs) − b · bs
            (local.set $len (i32.sub (local.get $k) (i32.mul (local.get $b) (local.get $bs))))
            (if (i32.gt_u (local.get $len) (local.get $bs)) (then (local.set $len (local.get $bs))))
            (local.set $at (i32.add (i32.mul (local.get $row) (local.get $blocks)) (local.get $b)))
            ;; The block's first value: fp32 at $w, or bf16 widened into $scratch.
            (local.set $p (i32.add (i32.mul (local.get $row) (local.get $k)) (i32.mul (local.get $b) (local.get $bs))))
            (if (i32.eq (local.get $scratch) (i32.const -1))
              (then (local.set $p (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 2)))))
              (else
                (call $widen_bf16 (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 1))) (local.get $scratch) (local.get $len))
                (local.set $p (local.get $scratch))))
            (local.set $zp
              (call $block
                (local.get $p)
                (local.get $len) (local.get $blob) (local.get $sym)
                (i32.add (local.get $packed) (i32.mul (local.get $at) (local.get $blob)))
                (i32.add (local.get $scales) (i32.shl (local.get $at) (i32.const 2)))))
            (if (i32.eqz (local.get $sym))
              (then
                (local.set $at (i32.add (i32.add (local.get $zps) (i32.mul (local.get $row) (local.get $zpRow))) (i32.shr_u (local.get $b) (i32.const 1))))
                (i32.store8 (local.get $at)
                  (i32.or (i32.load8_u (local.get $at))
                          (i32.shl (local.get $zp) (i32.shl (i32.and (local.get $b) (i32.const 1)) (i32.const 2)))))))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $each_block)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

  ;; One block: the $len values at $p (1 ≤ len ≤ 2 · blob), codes into the $blob bytes at $out,
  ;; scale at $scaleAt; returns the zero point as packed (NaN → 0, as JS's `|` makes it).
  (func $block (param $p i32) (param $len i32) (param $blob i32) (param $sym i32) (param $out i32) (param $scaleAt i32)
        (result i32)
    (local $i i32) (local $end i32) (local $v f32) (local $lo f32) (local $hi f32)
    (local $vlo v128) (local $vhi v128) (local $peak f32)
    (local $s f64) (local $x f64) (local $f f64) (local $zpf f64) (local $bias f64) (local $zp i32)
    (local $sv v128) (local $bv v128) (local $a v128) (local $c v128) (local $last i32) (local $q i32)
    (local $v4 v128) (local $lo2 v128) (local $hi2 v128) (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128)
    (local $zero v128) (local $fifteen v128) (local $magic v128)
    (local $f0 v128) (local $f1 v128) (local $f2 v128)
    ;; The range: lo ≤ 0 ≤ hi, NaN left out. pmin(lo, v) is `v < lo ? v : lo` and pmax(hi, v)
    ;; `hi < v ? v : hi`, the JS's tests exactly (NaN fails both; −0 moves neither).
    (local.set $vlo (v128.const i32x4 0 0 0 0))
    (local.set $vhi (v128.const i32x4 0 0 0 0))
    ;; Sixteen values a step into four pairs of running ends, so that four pmin/pmax chains run at
    ;; once rather than one (each step waited for the last); the ends are then joined. Order does
    ;; not matter: no end is ever NaN or −0, so each lane ends at the least (greatest) value it saw.
    (local.set $end (i32.and (local.get $len) (i32.const -16)))
    (if (local.get $end)
      (then
        (local.set $e0 (local.get $vlo)) (local.set $e1 (local.get $vlo)) (local.set $e2 (local.get $vlo))
        (local.set $f0 (local.get $vhi)) (local.set $f1 (local.get $vhi)) (local.set $f2 (local.get $vhi))
        (block $wide_done
          (loop $wide
            (br_if $wide_done (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $q (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $a (v128.load (local.get $q)))
            (local.set $vlo (f32x4.pmin (local.get $vlo) (local.get $a)))
            (local.set $vhi (f32x4.pmax (local.get $vhi) (local.get $a)))
            (local.set $a (v128.load offset=16 (local.get $q)))
            (local.set $e0 (f32x4.pmin (local.get $e0) (local.get $a)))
            (local.set $f0 (f32x4.pmax (local.get $f0) (local.get $a)))
            (local.set $a (v128.load offset=32 (local.get $q)))
            (local.set $e1 (f32x4.pmin (local.get $e1) (local.get $a)))
            (local.set $f1 (f32x4.pmax (local.get $f1) (local.get $a)))
            (local.set $a (v128.load offset=48 (local.get $q)))
            (local.set $e2 (f32x4.pmin (local.get $e2) (local.get $a)))
            (local.set $f2 (f32x4.pmax (local.get $f2) (local.get $a)))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $wide)))
        (local.set $vlo (f32x4.pmin (f32x4.pmin (local.get $vlo) (local.get $e0)) (f32x4.pmin (local.get $e1) (local.get $e2))))
        (local.set $vhi (f32x4.pmax (f32x4.pmax (local.get $vhi) (local.get $f0)) (f32x4.pmax (local.get $f1) (local.get $f2))))))
    (local.set $end (i32.and (local.get $len) (i32.const -4)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $a (v128.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $vlo (f32x4.pmin (local.get $vlo) (local.get $a)))
        (local.set $vhi (f32x4.pmax (local.get $vhi) (local.get $a)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $simd)))
    ;; No lane is NaN or −0, so the least (greatest) lane is the JS's lo (hi), found in the vector by
    ;; pmin (pmax) against the lanes swapped in pairs, then in halves: no branch, where f32.min and
    ;; f32.max compile to three each (their NaN and −0 rules), a fifth of the kernel's time.
    (local.set $vlo (f32x4.pmin (local.get $vlo) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vlo) (local.get $vlo))))
    (local.set $vlo (f32x4.pmin (local.get $vlo) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $vlo) (local.get $vlo))))
    (local.set $lo (f32x4.extract_lane 0 (local.get $vlo)))
    (local.set $vhi (f32x4.pmax (local.get $vhi) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vhi) (local.get $vhi))))
    (local.set $vhi (f32x4.pmax (local.get $vhi) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $vhi) (local.get $vhi))))
    (local.set $hi (f32x4.extract_lane 0 (local.get $vhi)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $v (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
        (if (f32.lt (local.get $v) (local.get $lo)) (then (local.set $lo (local.get $v))))
        (if (f32.gt (local.get $v) (local.get $hi)) (then (local.set $hi (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))

    (if (local.get $sym)
      (then
        ;; peak = −lo > hi || (−lo === hi && loAt < hiAt) ? lo : hi. On a tie (rare) the first
        ;; value equal to lo or to hi decides; when both are 0 either gives the scale 1.
        (local.set $peak (local.get $hi))
        (if (f32.gt (f32.neg (local.get $lo)) (local.get $hi))
          (then (local.set $peak (local.get $lo)))
          (else
            (if (i32.and (f32.eq (f32.neg (local.get $lo)) (local.get $hi)) (f32.gt (local.get $hi) (f32.const 0)))
              (then
                (local.set $i (i32.const 0))
                (block $found
                  (loop $scan
                    (local.set $v (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
                    (if (f32.eq (local.get $v) (local.get $lo)) (then (local.set $peak (local.get $lo)) (br $found)))
                    (br_if $found (f32.eq (local.get $v) (local.get $hi)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $scan)))))))
        ;; scale = peak / −8 || 1, in float64
        (local.set $s (f64.div (f64.promote_f32 (local.get $peak)) (f64.const -8)))
        (if (f64.eq (local.get $s) (f64.const 0)) (then (local.set $s (f64.const 1))))
        (local.set $zpf (f64.const 8)))
      (else
        ;; scale = hi − lo === 0 ? 1 : (hi − lo) / 15; zp = min(15, max(0, Math.round(−lo / scale))),
        ;; all in float64, with the scale before its rounding to fp32.
        (local.set $s (f64.sub (f64.promote_f32 (local.get $hi)) (f64.promote_f32 (local.get $lo))))
        (local.set $s (if (result f64) (f64.eq (local.get $s) (f64.const 0))
                        (then (f64.const 1)) (else (f64.div (local.get $s) (f64.const 15)))))
        ;; Math.round: floor, plus one when the fraction is at least a half (ties towards +∞).
        ;; x − floor(x) is exact here (x ≥ 0, or NaN), so the test is too.
        (local.set $x (f64.div (f64.neg (f64.promote_f32 (local.get $lo))) (local.get $s)))
        ;; (The one as the comparison's 0 or 1, not a branch: on random weights it went either way.)
        (local.set $f (f64.floor (local.get $x)))
        (local.set $f (f64.add (local.get $f) (f64.convert_i32_u (f64.ge (f64.sub (local.get $x) (local.get $f)) (f64.const 0.5)))))
        (local.set $zpf (f64.min (f64.const 15) (f64.max (f64.const 0) (local.get $f))))))
    (local.set $zp (i32.trunc_sat_f64_s (local.get $zpf)))

    ;; scale = Math.fround(scale); codes floor(w / scale + zp + 0.5) in float64, clamped to 0…15.
    (f32.store (local.get $scaleAt) (f32.demote_f64 (local.get $s)))
    (local.set $s (f64.promote_f32 (f32.demote_f64 (local.get $s))))
    (local.set $bias (f64.add (local.get $zpf) (f64.const 0.5)))
    (local.set $sv (f64x2.splat (local.get $s)))
    (local.set $fifteen (v128.const f64x2 15 15))
    (local.set $magic (v128.const f64x2 0x1p52 0x1p52))
    (local.set $bv (f64x2.splat (local.get $bias)))
    (local.set $last (i32.add (local.get $out) (local.get $blob)))
    (local.set $end (i32.and (local.get $len) (i32.const -16)))
    (local.set $i (i32.const 0))
    (block $codes_done
      (loop $codes
        (br_if $codes_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $q (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))
        ;; 16 codes: each in the low 32 bits of a float64 (see below), four at a time gathered
        ;; into 32-bit lanes (the low halves of two vectors: one shufps), narrowed to bytes
        ;; (0…15 never saturate), then the odd ones shifted into the high nibbles. (Each code
        ;; gathered as a byte took two pshufb with their masks built each time: a third of the loop.)
        (local.set $v4 (v128.load (local.get $q)))
        (local.set $lo2 (f64x2.add (f64x2.pmin (local.get $fifteen) (f64x2.pmax (local.get $zero)
              (f64x2.floor (f64x2.add (f64x2.div (f64x2.promote_low_f32x4 (local.get $v4)) (local.get $sv)) (local.get $bv)))))
            (local.get $magic)))
        (local.set $hi2 (f64x2.add (f64x2.pmin (local.get $fifteen) (f64x2.pmax (local.get $zero)
              (f64x2.floor (f64x2.add (f64x2.div (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v4) (local.get $v4))) (local.get $sv)) (local.get $bv)))))
            (local.get $magic)))
        (local.set $e0 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $lo2) (local.get $hi2)))
        (local.set $v4 (v128.load offset=16 (local.get $q)))
        (local.set $lo2 (f64x2.add (f64x2.pmin (local.get $fifteen) (f64x2.pmax (local.get $zero)
              (f64x2.floor (f64x2.add (f64x2.div (f64x2.promote_low_f32x4 (local.get $v4)) (local.get $sv)) (local.get $bv)))))
            (local.get $magic)))
        (local.set $hi2 (f64x2.add (f64x2.pmin (local.get $fifteen) (f64x2.pmax (local.get $zero)
              (f64x2.floor (f64x2.add (f64x2.div (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v4) (local.get $v4))) (local.get $sv)) (local.get $bv)))))
            (local.get $magic)))
        (local.set $e1 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $lo2) (local.get $hi2)))
        (local.set $v4 (v128.load offset=32 (local.get $q)))
        (local.set $lo2 (f64x2.add (f64x2.pmin (local.get $fifteen) (f64x2.pmax (local.get $zero)
              (f64x2.floor (f64x2.add (f64x2.div (f64x2.promote_low_f32x4 (local.get $v4)) (local.get $sv)) (local.get $bv)))))
            (local.get $magic)))
        (local.set $hi2 (f64x2.add (f64x2.pmin (local.get $fifteen) (f64x2.pmax (local.get $zero)
              (f64x2.floor (f64x2.add (f64x2.div (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v4) (local.get $v4))) (local.get $sv)) (local.get $bv)))))
            (local.get $magic)))
        (local.set $e2 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $lo2) (local.get $hi2)))
        (local.set $v4 (v128.load offset=48 (local.get $q)))
        (local.set $lo2 (f64x2.add (f64x2.pmin (local.get $fifteen) (f64x2.pmax (local.get $zero)
              (f64x2.floor (f64x2.add (f64x2.div (f64x2.promote_low_f32x4 (local.get $v4)) (local.get $sv)) (local.get $bv)))))
            (local.get $magic)))
        (local.set $hi2 (f64x2.add (f64x2.pmin (local.get $fifteen) (f64x2.pmax (local.get $zero)
              (f64x2.floor (f64x2.add (f64x2.div (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v4) (local.get $v4))) (local.get $sv)) (local.get $bv)))))
            (local.get $magic)))
        (local.set $e3 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $lo2) (local.get $hi2)))
        (local.set $c
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_u (local.get $e0) (local.get $e1))
            (i16x8.narrow_i32x4_u (local.get $e2) (local.get $e3))))
        (local.set $c (v128.or (local.get $c) (i16x8.shr_u (local.get $c) (i32.const 4))))
        (v128.store64_lane 0 (local.get $out)
          (i8x16.shuffle 0 2 4 6 8 10 12 14 0 0 0 0 0 0 0 0 (local.get $c) (local.get $c)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $codes)))
    ;; The ragged end of a row's last block: pairs, a lone last code beside the zero point, padding.
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $len)))
        (local.set $q (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))
        (i32.store8 (local.get $out)
          (i32.or (call $code (f32.load (local.get $q)) (local.get $s) (local.get $bias))
                  (i32.shl (call $code (f32.load offset=4 (local.get $q)) (local.get $s) (local.get $bias)) (i32.const 4))))
        (local.set $out (i32.add (local.get $out) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pairs)))
    (if (i32.lt_u (local.get $i) (local.get $len))
      (then
        (i32.store8 (local.get $out)
          (i32.or (call $code (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))) (local.get $s) (local.get $bias))
                  (i32.shl (local.get $zp) (i32.const 4))))
        (local.set $out (i32.add (local.get $out) (i32.const 1)))))
    ;; (memory.fill calls out of the compiled code: only where there is padding)
    (if (i32.lt_u (local.get $out) (local.get $last))
      (then (memory.fill (local.get $out) (i32.or (local.get $zp) (i32.shl (local.get $zp) (i32.const 4))) (i32.sub (local.get $last) (local.get $out)))))
    (local.get $zp))

  ;; One code, as the 16-code loop computes each.
  (func $code (param $v f32) (param $s f64) (param $bias f64) (result i32)
    (local $c f64)
    (local.set $c (f64.floor (f64.add (f64.div (f64.promote_f32 (local.get $v)) (local.get $s)) (local.get $bias))))
    (if (result i32) (f64.ge (local.get $c) (f64.const 0))
      (then (if (result i32) (f64.gt (local.get $c) (f64.const 15)) (then (i32.const 15)) (else (i32.trunc_f64_s (local.get $c)))))
      (else (i32.const 0))))

  ;; bf16 → fp32: each 16-bit pattern becomes the high half of a 32-bit one. $count values from
  ;; $src to $dst; the regions must not overlap (JS copies in and out).
  (func $widen_bf16 (export "widen_bf16") (param $src i32) (param $dst i32) (param $count i32)
    (local $i i32) (local $end i32) (local $v v128)
    (local.set $end (i32.and (local.get $count) (i32.const -8)))
    (block $done
      (loop $eight
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1)))))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (i8x16.shuffle 0 0 16 17 0 0 18 19 0 0 20 21 0 0 22 23 (v128.const i32x4 0 0 0 0) (local.get $v)))
        (v128.store offset=16 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (i8x16.shuffle 0 0 24 25 0 0 26 27 0 0 28 29 0 0 30 31 (v128.const i32x4 0 0 0 0) (local.get $v)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $eight)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $count)))
        (i32.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (i32.shl (i32.load16_u (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1)))) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  ;; fp32 → IEEE half, round to nearest even, on the bit patterns as float32ToFloat16 in half.ts:
  ;; every lane takes all three forms and keeps the one its magnitude selects. $count values from
  ;; $src to $dst, rounded up to a multiple of 4 (the caller leaves room); no overlap.
  (func (export "narrow_f16") (param $src i32) (param $dst i32) (param $count i32)
    (local $i i32) (local $x v128) (local $abs v128) (local $h v128)
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $x (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $abs (v128.and (local.get $x) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))
        ;; Normal halves: rebias the exponent (−112 « 23, as uint32), add the rounding bias (0xfff plus
        ;; the lowest kept bit, ties to even) and drop 13 mantissa bits; carries roll into the exponent.
        (local.set $h
          (i32x4.shr_u
            (i32x4.add (i32x4.add (local.get $abs) (v128.const i32x4 0xc8000fff 0xc8000fff 0xc8000fff 0xc8000fff))
                       (v128.and (i32x4.shr_u (local.get $abs) (i32.const 13)) (v128.const i32x4 1 1 1 1)))
            (i32.const 13)))
        ;; Below the smallest normal half: adding 0.5 (an fp32 add, rounding to nearest even) moves the
        ;; subnormal half's bits into the low mantissa.
        (local.set $h
          (v128.bitselect
            (i32x4.sub (f32x4.add (local.get $abs) (v128.const i32x4 0x3f000000 0x3f000000 0x3f000000 0x3f000000))
                       (v128.const i32x4 0x3f000000 0x3f000000 0x3f000000 0x3f000000))
            (local.get $h)
            (i32x4.lt_s (local.get $abs) (v128.const i32x4 0x38800000 0x38800000 0x38800000 0x38800000))))
        ;; Overflow to infinity; NaN stays NaN (quiet).
        (local.set $h
          (v128.bitselect
            (v128.bitselect (v128.const i32x4 0x7e00 0x7e00 0x7e00 0x7e00) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)
              (i32x4.gt_s (local.get $abs) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000)))
            (local.get $h)
            (i32x4.ge_s (local.get $abs) (v128.const i32x4 0x47800000 0x47800000 0x47800000 0x47800000))))
        (v128.store64_lane 0 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
          (i16x8.narrow_i32x4_u
            (v128.or (local.get $h) (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)))
            (local.get $h)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $four))))
)
