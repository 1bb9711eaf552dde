;; Batched matmul micro-kernels for the tfjs wasm backend (WebAssembly SIMD, f32x4).
;; The module imports the backend's own memory, so tensors are read and written in place.
;; All pointers and strides are in BYTES. C = A·B for one batch entry, A: [M, K] (any strides),
;; B packed by packB into column panels of 8: panel jb holds B[k, 8jb .. 8jb+7] for k = 0..K-1,
;; zero-padded past N.
(module
  (import "env" "memory" MEMORY_DECL)

  ;; packB(b, sBk, sBj, K, N, dst): dst[(jb*K + k)*8 + jj] = B[k, 8jb + jj] (0 past N).
  (func (export "packB") (param $b i32) (param $sBk i32) (param $sBj i32) (param $K i32) (param $N i32) (param $dst i32)
    (local $j0 i32) (local $k i32) (local $jj i32) (local $src i32) (local $row i32)
    (block $doneJ
      (loop $loopJ
        (br_if $doneJ (i32.ge_s (local.get $j0) (local.get $N)))
        ;; row = start of column j0 in B
        (local.set $row (i32.add (local.get $b) (i32.mul (local.get $j0) (local.get $sBj))))
        (local.set $k (i32.const 0))
        (if (i32.and (i32.eq (local.get $sBj) (i32.const 4))
                     (i32.le_s (i32.add (local.get $j0) (i32.const 8)) (local.get $N)))
          (then
            ;; contiguous full block: two vector copies per k
            (block $doneK (loop $loopK
              (br_if $doneK (i32.ge_s (local.get $k) (local.get $K)))
              (v128.store (local.get $dst) (v128.load (local.get $row)))
              (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $row)))
              (local.set $row (i32.add (local.get $row) (local.get $sBk)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $loopK))))
          (else
            (block $doneK2 (loop $loopK2
              (br_if $doneK2 (i32.ge_s (local.get $k) (local.get $K)))
              (local.set $src (local.get $row))
              (local.set $jj (i32.const 0))
              (block $doneJJ (loop $loopJJ
                (br_if $doneJJ (i32.ge_s (local.get $jj) (i32.const 8)))
                (if (i32.lt_s (i32.add (local.get $j0) (local.get $jj)) (local.get $N))
                  (then (f32.store (local.get $dst) (f32.load (local.get $src))))
                  (else (f32.store (local.get $dst) (f32.const 0))))
                (local.set $src (i32.add (local.get $src) (local.get $sBj)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
                (br $loopJJ)))
              (local.set $row (i32.add (local.get $row) (local.get $sBk)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $loopK2)))))
        (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
        (br $loopJ))))

  ;; gemm(a, sAi, sAk, panel, M, N, K, c, ldc, tmp): C[i, j] = sum_k A[i, k] * B[k, j].
  ;; C rows are ldc bytes apart, columns contiguous. tmp: 128 scratch bytes for edge tiles.
  (func (export "gemm") (param $a i32) (param $sAi i32) (param $sAk i32) (param $panel i32)
        (param $M i32) (param $N i32) (param $K i32) (param $c i32) (param $ldc i32) (param $tmp i32)
    (local $i0 i32) (local $rows i32) (local $j0 i32) (local $cols i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $q0 i32) (local $q1 i32) (local $q2 i32) (local $q3 i32)
    (local $p i32) (local $pStart i32) (local $k i32) (local $panelBytes i32)
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $dst i32) (local $r i32) (local $jj i32) (local $crow i32)
    (local.set $panelBytes (i32.shl (local.get $K) (i32.const 5)))
    (block $doneI (loop $loopI
      (br_if $doneI (i32.ge_s (local.get $i0) (local.get $M)))
      (local.set $rows (i32.sub (local.get $M) (local.get $i0)))
      (if (i32.gt_s (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
      (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i0) (local.get $sAi))))
      ;; rows past M re-read row 0 of the tile (valid memory); their results are not stored
      (local.set $a1 (select (i32.add (local.get $a0) (local.get $sAi)) (local.get $a0) (i32.gt_s (local.get $rows) (i32.const 1))))
      (local.set $a2 (select (i32.add (local.get $a0) (i32.shl (local.get $sAi) (i32.const 1))) (local.get $a0) (i32.gt_s (local.get $rows) (i32.const 2))))
      (local.set $a3 (select (i32.add (local.get $a0) (i32.mul (local.get $sAi) (i32.const 3))) (local.get $a0) (i32.gt_s (local.get $rows) (i32.const 3))))
      (local.set $j0 (i32.const 0))
      (local.set $pStart (local.get $panel))
      (block $doneJ (loop $loopJ
        (br_if $doneJ (i32.ge_s (local.get $j0) (local.get $N)))
        (local.set $cols (i32.sub (local.get $N) (local.get $j0)))
        (if (i32.gt_s (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
        (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
        (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
        (local.set $q0 (local.get $a0)) (local.set $q1 (local.get $a1))
        (local.set $q2 (local.get $a2)) (local.set $q3 (local.get $a3))
        (local.set $p (local.get $pStart))
        (local.set $k (local.get $K))
        (block $doneK (loop $loopK
          (br_if $doneK (i32.le_s (local.get $k) (i32.const 0)))
          (local.set $b0 (v128.load (local.get $p)))
          (local.set $b1 (v128.load offset=16 (local.get $p)))
          (local.set $x (f32x4.splat (f32.load (local.get $q0))))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (f32x4.splat (f32.load (local.get $q1))))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (f32x4.splat (f32.load (local.get $q2))))
          (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (f32x4.splat (f32.load (local.get $q3))))
          (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $q0 (i32.add (local.get $q0) (local.get $sAk)))
          (local.set $q1 (i32.add (local.get $q1) (local.get $sAk)))
          (local.set $q2 (i32.add (local.get $q2) (local.get $sAk)))
          (local.set $q3 (i32.add (local.get $q3) (local.get $sAk)))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br $loopK)))
        (local.set $crow (i32.add (i32.add (local.get $c) (i32.mul (local.get $i0) (local.get $ldc))) (i32.shl (local.get $j0) (i32.const 2))))
        (if (i32.and (i32.eq (local.get $rows) (i32.const 4)) (i32.eq (local.get $cols) (i32.const 8)))
          (then
            (v128.store (local.get $crow) (local.get $c00))
            (v128.store offset=16 (local.get $crow) (local.get $c01))
            (local.set $crow (i32.add (local.get $crow) (local.get $ldc)))
            (v128.store (local.get $crow) (local.get $c10))
            (v128.store offset=16 (local.get $crow) (local.get $c11))
            (local.set $crow (i32.add (local.get $crow) (local.get $ldc)))
            (v128.store (local.get $crow) (local.get $c20))
            (v128.store offset=16 (local.get $crow) (local.get $c21))
            (local.set $crow (i32.add (local.get $crow) (local.get $ldc)))
            (v128.store (local.get $crow) (local.get $c30))
            (v128.store offset=16 (local.get $crow) (local.get $c31)))
          (else
            ;; edge tile: spill to tmp [4][8], copy rows x cols
            (v128.store offset=0 (local.get $tmp) (local.get $c00))
            (v128.store offset=16 (local.get $tmp) (local.get $c01))
            (v128.store offset=32 (local.get $tmp) (local.get $c10))
            (v128.store offset=48 (local.get $tmp) (local.get $c11))
            (v128.store offset=64 (local.get $tmp) (local.get $c20))
            (v128.store offset=80 (local.get $tmp) (local.get $c21))
            (v128.store offset=96 (local.get $tmp) (local.get $c30))
            (v128.store offset=112 (local.get $tmp) (local.get $c31))
            (local.set $r (i32.const 0))
            (block $doneR (loop $loopR
              (br_if $doneR (i32.ge_s (local.get $r) (local.get $rows)))
              (local.set $jj (i32.const 0))
              (block $doneC (loop $loopC
                (br_if $doneC (i32.ge_s (local.get $jj) (local.get $cols)))
                (f32.store
                  (i32.add (local.get $crow) (i32.shl (local.get $jj) (i32.const 2)))
                  (f32.load (i32.add (local.get $tmp) (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 3)) (local.get $jj)) (i32.const 2)))))
                (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
                (br $loopC)))
              (local.set $crow (i32.add (local.get $crow) (local.get $ldc)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br $loopR)))))
        (local.set $pStart (i32.add (local.get $pStart) (local.get $panelBytes)))
        (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
        (br $loopJ)))
      (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
      (br $loopI))))
)
