;; The page's matrix product in WebAssembly SIMD (f32x4), which Go's
;; js/wasm port does not emit: snn/matmul_js.go copies the operands into this
;; module's own memory, calls gemm and copies the product back.
;;
;; gemm(m, n, k, a, b, c): c[m][n] = a[m][k] · b[k][n], row-major float32 at
;; byte offsets a, b, c; m a multiple of 4 and n of 8 (the caller pads). Each
;; 4x8 tile of c is eight f32x4 sums over k, kept in locals (registers);
;; c is made in blocks of 256 columns, so that the block of b they read stays
;; in cache while every row of a meets it.
(module
  (memory (export "mem") 1)
  (func (export "gemm") (param $m i32) (param $n i32) (param $k i32) (param $a i32) (param $b i32) (param $c i32)
    (local $i i32) (local $j i32) (local $p i32) (local $nb i32) (local $kb i32) (local $jc i32) (local $je i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $bp i32) (local $cp i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (block $jcend
      (loop $jcloop
        (br_if $jcend (i32.ge_u (local.get $jc) (local.get $n)))
        (local.set $je (i32.add (local.get $jc) (i32.const 256)))
        (if (i32.gt_u (local.get $je) (local.get $n)) (then (local.set $je (local.get $n))))
        (local.set $i (i32.const 0))
    (block $iend
      (loop $iloop
        (br_if $iend (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $kb))))
        (local.set $a1 (i32.add (local.get $a0) (local.get $kb)))
        (local.set $a2 (i32.add (local.get $a1) (local.get $kb)))
        (local.set $a3 (i32.add (local.get $a2) (local.get $kb)))
        (local.set $j (local.get $jc))
        (block $jend
          (loop $jloop
            (br_if $jend (i32.ge_u (local.get $j) (local.get $je)))
            (local.set $c00 (v128.const i32x4 0 0 0 0))
            (local.set $c01 (v128.const i32x4 0 0 0 0))
            (local.set $c10 (v128.const i32x4 0 0 0 0))
            (local.set $c11 (v128.const i32x4 0 0 0 0))
            (local.set $c20 (v128.const i32x4 0 0 0 0))
            (local.set $c21 (v128.const i32x4 0 0 0 0))
            (local.set $c30 (v128.const i32x4 0 0 0 0))
            (local.set $c31 (v128.const i32x4 0 0 0 0))
            (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $p (i32.const 0))
            (block $pend
              (loop $ploop
                (br_if $pend (i32.ge_u (local.get $p) (local.get $kb)))
                (local.set $b0 (v128.load (local.get $bp)))
                (local.set $b1 (v128.load offset=16 (local.get $bp)))
                (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a0) (local.get $p)))))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a1) (local.get $p)))))
                (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a2) (local.get $p)))))
                (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a3) (local.get $p)))))
                (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $bp (i32.add (local.get $bp) (local.get $nb)))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $ploop)))
            (local.set $cp (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
            (v128.store (local.get $cp) (local.get $c00))
            (v128.store offset=16 (local.get $cp) (local.get $c01))
            (local.set $cp (i32.add (local.get $cp) (local.get $nb)))
            (v128.store (local.get $cp) (local.get $c10))
            (v128.store offset=16 (local.get $cp) (local.get $c11))
            (local.set $cp (i32.add (local.get $cp) (local.get $nb)))
            (v128.store (local.get $cp) (local.get $c20))
            (v128.store offset=16 (local.get $cp) (local.get $c21))
            (local.set $cp (i32.add (local.get $cp) (local.get $nb)))
            (v128.store (local.get $cp) (local.get $c30))
            (v128.store offset=16 (local.get $cp) (local.get $c31))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $jloop)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $iloop)))
        (local.set $jc (local.get $je))
        (br $jcloop)))))
