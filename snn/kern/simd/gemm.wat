;; The page's kernels in WebAssembly SIMD, which Go's js/wasm port does not
;; emit: float32 in f32x4 (gemm, sconv, ...) and their float64 twins in
;; f64x2 (gemm64, sconv64, ..., the exact mode). The module has no memory of
;; its own: it imports the Go program's (go.mem), so snn/kern/simd_js.go
;; passes its slices' addresses and the kernels read and write them where
;; they are.
;;
;; gemm(m, n, k, a, b, c): c[m][n] = a[m][k] · b[k][n], row-major float32 at
;; byte offsets a, b, c; m a multiple of 4 and n of 8 (the caller pads). Each
;; 4x8 tile of c is eight f32x4 sums over k, kept in locals (registers);
;; c is made in blocks of 256 columns, so that the block of b they read stays
;; in cache while every row of a meets it.
(module
  (import "go" "mem" (memory 1))
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
        (br $jcloop))))
  ;; gemm64(m, n, k, a, b, c): gemm in float64, m and n multiples of 4, b
  ;; packed in panels of 4 columns ([n/4][k][4]: the panel of columns j..j+3
  ;; at byte b + 8jk), read in sequence (b's rows, 8n bytes apart, would
  ;; land on few cache sets). Each 4x4 tile of c is eight f64x2 sums over k;
  ;; blocks of 128 columns.
  (func (export "gemm64") (param $m i32) (param $n i32) (param $k i32) (param $a i32) (param $b i32) (param $c i32)
    (local $i i32) (local $j i32) (local $p i32) (local $nb i32) (local $kb i32) (local $jc i32) (local $je i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $bp i32) (local $cp i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 3)))
    (local.set $kb (i32.shl (local.get $k) (i32.const 3)))
    (block $jcend
      (loop $jcloop
        (br_if $jcend (i32.ge_u (local.get $jc) (local.get $n)))
        (local.set $je (i32.add (local.get $jc) (i32.const 128)))
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
            (local.set $bp (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $kb))))
            (local.set $p (i32.const 0))
            (block $pend
              (loop $ploop
                (br_if $pend (i32.ge_u (local.get $p) (local.get $kb)))
                (local.set $b0 (v128.load (local.get $bp)))
                (local.set $b1 (v128.load offset=16 (local.get $bp)))
                (local.set $s (f64x2.splat (f64.load (i32.add (local.get $a0) (local.get $p)))))
                (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $s) (local.get $b0))))
                (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $s) (local.get $b1))))
                (local.set $s (f64x2.splat (f64.load (i32.add (local.get $a1) (local.get $p)))))
                (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $s) (local.get $b0))))
                (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $s) (local.get $b1))))
                (local.set $s (f64x2.splat (f64.load (i32.add (local.get $a2) (local.get $p)))))
                (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $s) (local.get $b0))))
                (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $s) (local.get $b1))))
                (local.set $s (f64x2.splat (f64.load (i32.add (local.get $a3) (local.get $p)))))
                (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $s) (local.get $b0))))
                (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $s) (local.get $b1))))
                (local.set $bp (i32.add (local.get $bp) (i32.const 32)))
                (local.set $p (i32.add (local.get $p) (i32.const 8)))
                (br $ploop)))
            (local.set $cp (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3))))
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
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jloop)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $iloop)))
        (local.set $jc (local.get $je))
        (br $jcloop))))
  ;; sconv(in, wt, acc, cin, T, H, W, Ho, Wo, C, k, stride, pad): the sparse
  ;; forward of a convolution (snn/sparse.go's convForwardSparse): for every
  ;; nonzero input in[ci][t][iy][ix] = v and every kernel tap (ky, kx) that
  ;; lands on an output (oy, ox), acc[t][oy][ox][:] += v * wt[ci][ky][kx][:],
  ;; C floats (a multiple of 4) a row, four at a time. Byte offsets.
  (func (export "sconv") (param $in i32) (param $wt i32) (param $acc i32)
    (param $cin i32) (param $T i32) (param $H i32) (param $W i32) (param $Ho i32) (param $Wo i32)
    (param $C i32) (param $k i32) (param $stride i32) (param $pad i32)
    (local $ci i32) (local $t i32) (local $iy i32) (local $ix i32) (local $ky i32) (local $kx i32)
    (local $oy i32) (local $ox i32) (local $v f32) (local $sv v128) (local $ip i32)
    (local $wrow i32) (local $arow i32) (local $c i32) (local $cb i32)
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $ip (local.get $in))
    (local.set $ci (i32.const 0))
    (loop $ciloop
      (local.set $t (i32.const 0))
      (loop $tloop
        (local.set $iy (i32.const 0))
        (loop $iyloop
          (local.set $ix (i32.const 0))
          (loop $ixloop
            (local.set $v (f32.load (local.get $ip)))
            (local.set $ip (i32.add (local.get $ip) (i32.const 4)))
            (if (f32.ne (local.get $v) (f32.const 0))
              (then
                (local.set $sv (f32x4.splat (local.get $v)))
                (local.set $ky (i32.const 0))
                (loop $kyloop
                  (local.set $oy (i32.sub (i32.add (local.get $iy) (local.get $pad)) (local.get $ky)))
                  ;; off the output grid: -1; a stride of 1 needs no division
                  (if (i32.ne (local.get $stride) (i32.const 1))
                    (then
                      (if (i32.rem_s (local.get $oy) (local.get $stride))
                        (then (local.set $oy (i32.const -1)))
                        (else (local.set $oy (i32.div_s (local.get $oy) (local.get $stride)))))))
                  (if (i32.ge_s (local.get $oy) (i32.const 0))
                    (then
                      (if (i32.lt_s (local.get $oy) (local.get $Ho))
                        (then
                          (local.set $kx (i32.const 0))
                          (loop $kxloop
                            (local.set $ox (i32.sub (i32.add (local.get $ix) (local.get $pad)) (local.get $kx)))
                            (if (i32.ne (local.get $stride) (i32.const 1))
                              (then
                                (if (i32.rem_s (local.get $ox) (local.get $stride))
                                  (then (local.set $ox (i32.const -1)))
                                  (else (local.set $ox (i32.div_s (local.get $ox) (local.get $stride)))))))
                            (if (i32.ge_s (local.get $ox) (i32.const 0))
                              (then
                                (if (i32.lt_s (local.get $ox) (local.get $Wo))
                                  (then
                                    ;; wt row (ci, ky, kx), acc row (t, oy, ox)
                                    (local.set $wrow (i32.add (local.get $wt) (i32.mul
                                      (i32.add (i32.mul (i32.add (i32.mul (local.get $ci) (local.get $k)) (local.get $ky)) (local.get $k)) (local.get $kx))
                                      (local.get $cb))))
                                    (local.set $arow (i32.add (local.get $acc) (i32.mul
                                      (i32.add (i32.mul (i32.add (i32.mul (local.get $t) (local.get $Ho)) (local.get $oy)) (local.get $Wo)) (local.get $ox))
                                      (local.get $cb))))
                                    (local.set $c (i32.const 0))
                                    (loop $cloop
                                      (v128.store (i32.add (local.get $arow) (local.get $c))
                                        (f32x4.add (v128.load (i32.add (local.get $arow) (local.get $c)))
                                          (f32x4.mul (local.get $sv) (v128.load (i32.add (local.get $wrow) (local.get $c))))))
                                      (local.set $c (i32.add (local.get $c) (i32.const 16)))
                                      (br_if $cloop (i32.lt_u (local.get $c) (local.get $cb))))))))
                            (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                            (br_if $kxloop (i32.lt_s (local.get $kx) (local.get $k))))))))
                  (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                  (br_if $kyloop (i32.lt_s (local.get $ky) (local.get $k))))))
            (local.set $ix (i32.add (local.get $ix) (i32.const 1)))
            (br_if $ixloop (i32.lt_s (local.get $ix) (local.get $W))))
          (local.set $iy (i32.add (local.get $iy) (i32.const 1)))
          (br_if $iyloop (i32.lt_s (local.get $iy) (local.get $H))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br_if $tloop (i32.lt_s (local.get $t) (local.get $T))))
      (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
      (br_if $ciloop (i32.lt_s (local.get $ci) (local.get $cin)))))
  ;; col2im(col, ldc, gin, cin, T, H, W, Ho, Wo, k, stride, pad): the
  ;; backward of a convolution after its product (snn/layers.go's col2im):
  ;; gin = 0, then each patch gradient col[(ci,ky,kx)][(t,oy,ox)] (rows ldc
  ;; floats apart) is added onto the input position it came from.
  (func (export "col2im") (param $col i32) (param $ldc i32) (param $gin i32)
    (param $cin i32) (param $T i32) (param $H i32) (param $W i32) (param $Ho i32) (param $Wo i32)
    (param $k i32) (param $stride i32) (param $pad i32)
    (local $ci i32) (local $ky i32) (local $kx i32) (local $t i32) (local $oy i32) (local $ox i32)
    (local $iy i32) (local $ix i32) (local $rowp i32) (local $plane i32) (local $s i32) (local $d i32)
    (local $n i32) (local $src i32)
    (memory.fill (local.get $gin) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (local.get $cin) (local.get $T)) (i32.mul (local.get $H) (local.get $W))) (i32.const 2)))
    (local.set $rowp (local.get $col))
    (local.set $ci (i32.const 0))
    (loop $ciloop
      (local.set $ky (i32.const 0))
      (loop $kyloop
        (local.set $kx (i32.const 0))
        (loop $kxloop
          (local.set $t (i32.const 0))
          (loop $tloop
            (local.set $plane (i32.add (local.get $gin) (i32.shl
              (i32.mul (i32.add (i32.mul (local.get $ci) (local.get $T)) (local.get $t)) (i32.mul (local.get $H) (local.get $W)))
              (i32.const 2))))
            (local.set $s (i32.add (local.get $rowp) (i32.shl (i32.mul (local.get $t) (i32.mul (local.get $Ho) (local.get $Wo))) (i32.const 2))))
            (local.set $oy (i32.const 0))
            (loop $oyloop
              (local.set $iy (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $stride)) (local.get $pad)) (local.get $ky)))
              (if (i32.and (i32.ge_s (local.get $iy) (i32.const 0)) (i32.lt_s (local.get $iy) (local.get $H)))
                (then
                  (if (i32.eq (local.get $stride) (i32.const 1))
                    (then
                      ;; ix = ox - pad + kx: the outputs [ox0, ox1) land in
                      ;; the row, side by side; four at a time, the same adds
                      (local.set $ox (select (i32.sub (local.get $pad) (local.get $kx)) (i32.const 0)
                        (i32.gt_s (i32.sub (local.get $pad) (local.get $kx)) (i32.const 0))))
                      (local.set $n (i32.sub (local.get $W) (i32.sub (local.get $kx) (local.get $pad))))
                      (local.set $n (i32.sub (select (local.get $n) (local.get $Wo) (i32.lt_s (local.get $n) (local.get $Wo))) (local.get $ox)))
                      (local.set $d (i32.add (local.get $plane) (i32.shl (i32.add (i32.mul (local.get $iy) (local.get $W))
                        (i32.add (local.get $ox) (i32.sub (local.get $kx) (local.get $pad)))) (i32.const 2))))
                      (local.set $src (i32.add (local.get $s) (i32.shl (i32.add (i32.mul (local.get $oy) (local.get $Wo)) (local.get $ox)) (i32.const 2))))
                      (block $vend
                        (loop $vloop
                          (br_if $vend (i32.lt_s (local.get $n) (i32.const 4)))
                          (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (v128.load (local.get $src))))
                          (local.set $d (i32.add (local.get $d) (i32.const 16)))
                          (local.set $src (i32.add (local.get $src) (i32.const 16)))
                          (local.set $n (i32.sub (local.get $n) (i32.const 4)))
                          (br $vloop)))
                      (block $send
                        (loop $sloop
                          (br_if $send (i32.le_s (local.get $n) (i32.const 0)))
                          (f32.store (local.get $d) (f32.add (f32.load (local.get $d)) (f32.load (local.get $src))))
                          (local.set $d (i32.add (local.get $d) (i32.const 4)))
                          (local.set $src (i32.add (local.get $src) (i32.const 4)))
                          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                          (br $sloop))))
                    (else
                  (local.set $ox (i32.const 0))
                  (loop $oxloop
                    (local.set $ix (i32.add (i32.sub (i32.mul (local.get $ox) (local.get $stride)) (local.get $pad)) (local.get $kx)))
                    (if (i32.and (i32.ge_s (local.get $ix) (i32.const 0)) (i32.lt_s (local.get $ix) (local.get $W)))
                      (then
                        (local.set $d (i32.add (local.get $plane) (i32.shl (i32.add (i32.mul (local.get $iy) (local.get $W)) (local.get $ix)) (i32.const 2))))
                        (f32.store (local.get $d) (f32.add (f32.load (local.get $d))
                          (f32.load (i32.add (local.get $s) (i32.shl (i32.add (i32.mul (local.get $oy) (local.get $Wo)) (local.get $ox)) (i32.const 2))))))))
                    (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                    (br_if $oxloop (i32.lt_s (local.get $ox) (local.get $Wo))))))))
              (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
              (br_if $oyloop (i32.lt_s (local.get $oy) (local.get $Ho))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br_if $tloop (i32.lt_s (local.get $t) (local.get $T))))
          (local.set $rowp (i32.add (local.get $rowp) (i32.shl (local.get $ldc) (i32.const 2))))
          (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
          (br_if $kxloop (i32.lt_s (local.get $kx) (local.get $k))))
        (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
        (br_if $kyloop (i32.lt_s (local.get $ky) (local.get $k))))
      (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
      (br_if $ciloop (i32.lt_s (local.get $ci) (local.get $cin)))))
  ;; sconv64(in, wt, acc, ...): sconv in float64, C a multiple of 2, two
  ;; values a vector: the Go loop's adds in its order, bit for bit.
  (func (export "sconv64") (param $in i32) (param $wt i32) (param $acc i32)
    (param $cin i32) (param $T i32) (param $H i32) (param $W i32) (param $Ho i32) (param $Wo i32)
    (param $C i32) (param $k i32) (param $stride i32) (param $pad i32)
    (local $ci i32) (local $t i32) (local $iy i32) (local $ix i32) (local $ky i32) (local $kx i32)
    (local $oy i32) (local $ox i32) (local $v f64) (local $sv v128) (local $ip i32)
    (local $wrow i32) (local $arow i32) (local $c i32) (local $cb i32) (local $ae i32)
    (local.set $cb (i32.shl (local.get $C) (i32.const 3)))
    (local.set $ip (local.get $in))
    (local.set $ci (i32.const 0))
    (loop $ciloop
      (local.set $t (i32.const 0))
      (loop $tloop
        (local.set $iy (i32.const 0))
        (loop $iyloop
          (local.set $ix (i32.const 0))
          (loop $ixloop
            (local.set $v (f64.load (local.get $ip)))
            (local.set $ip (i32.add (local.get $ip) (i32.const 8)))
            (if (f64.ne (local.get $v) (f64.const 0))
              (then
                (local.set $sv (f64x2.splat (local.get $v)))
                (local.set $ky (i32.const 0))
                (loop $kyloop
                  (local.set $oy (i32.sub (i32.add (local.get $iy) (local.get $pad)) (local.get $ky)))
                  ;; off the output grid: -1; a stride of 1 needs no division
                  (if (i32.ne (local.get $stride) (i32.const 1))
                    (then
                      (if (i32.rem_s (local.get $oy) (local.get $stride))
                        (then (local.set $oy (i32.const -1)))
                        (else (local.set $oy (i32.div_s (local.get $oy) (local.get $stride)))))))
                  (if (i32.ge_s (local.get $oy) (i32.const 0))
                    (then
                      (if (i32.lt_s (local.get $oy) (local.get $Ho))
                        (then
                          (local.set $kx (i32.const 0))
                          (loop $kxloop
                            (local.set $ox (i32.sub (i32.add (local.get $ix) (local.get $pad)) (local.get $kx)))
                            (if (i32.ne (local.get $stride) (i32.const 1))
                              (then
                                (if (i32.rem_s (local.get $ox) (local.get $stride))
                                  (then (local.set $ox (i32.const -1)))
                                  (else (local.set $ox (i32.div_s (local.get $ox) (local.get $stride)))))))
                            (if (i32.ge_s (local.get $ox) (i32.const 0))
                              (then
                                (if (i32.lt_s (local.get $ox) (local.get $Wo))
                                  (then
                                    ;; wt row (ci, ky, kx), acc row (t, oy, ox)
                                    (local.set $wrow (i32.add (local.get $wt) (i32.mul
                                      (i32.add (i32.mul (i32.add (i32.mul (local.get $ci) (local.get $k)) (local.get $ky)) (local.get $k)) (local.get $kx))
                                      (local.get $cb))))
                                    (local.set $arow (i32.add (local.get $acc) (i32.mul
                                      (i32.add (i32.mul (i32.add (i32.mul (local.get $t) (local.get $Ho)) (local.get $oy)) (local.get $Wo)) (local.get $ox))
                                      (local.get $cb))))
                                    ;; four vectors a step where the row has a multiple
                                    ;; of 8 values, else one
                                    (local.set $c (local.get $arow))
                                    (local.set $ae (i32.add (local.get $arow) (local.get $cb)))
                                    (if (i32.and (local.get $cb) (i32.const 63))
                                      (then
                                        (loop $cloop
                                          (v128.store (local.get $c)
                                            (f64x2.add (v128.load (local.get $c))
                                              (f64x2.mul (local.get $sv) (v128.load (local.get $wrow)))))
                                          (local.set $wrow (i32.add (local.get $wrow) (i32.const 16)))
                                          (local.set $c (i32.add (local.get $c) (i32.const 16)))
                                          (br_if $cloop (i32.lt_u (local.get $c) (local.get $ae)))))
                                      (else
                                        (loop $cloop4
                                          (v128.store (local.get $c)
                                            (f64x2.add (v128.load (local.get $c))
                                              (f64x2.mul (local.get $sv) (v128.load (local.get $wrow)))))
                                          (v128.store offset=16 (local.get $c)
                                            (f64x2.add (v128.load offset=16 (local.get $c))
                                              (f64x2.mul (local.get $sv) (v128.load offset=16 (local.get $wrow)))))
                                          (v128.store offset=32 (local.get $c)
                                            (f64x2.add (v128.load offset=32 (local.get $c))
                                              (f64x2.mul (local.get $sv) (v128.load offset=32 (local.get $wrow)))))
                                          (v128.store offset=48 (local.get $c)
                                            (f64x2.add (v128.load offset=48 (local.get $c))
                                              (f64x2.mul (local.get $sv) (v128.load offset=48 (local.get $wrow)))))
                                          (local.set $wrow (i32.add (local.get $wrow) (i32.const 64)))
                                          (local.set $c (i32.add (local.get $c) (i32.const 64)))
                                          (br_if $cloop4 (i32.lt_u (local.get $c) (local.get $ae))))))))))
                            (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                            (br_if $kxloop (i32.lt_s (local.get $kx) (local.get $k))))))))
                  (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                  (br_if $kyloop (i32.lt_s (local.get $ky) (local.get $k))))))
            (local.set $ix (i32.add (local.get $ix) (i32.const 1)))
            (br_if $ixloop (i32.lt_s (local.get $ix) (local.get $W))))
          (local.set $iy (i32.add (local.get $iy) (i32.const 1)))
          (br_if $iyloop (i32.lt_s (local.get $iy) (local.get $H))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br_if $tloop (i32.lt_s (local.get $t) (local.get $T))))
      (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
      (br_if $ciloop (i32.lt_s (local.get $ci) (local.get $cin)))))
  ;; col2im64(col, ldc, gin, ...): col2im in float64, two values a vector
  ;; (ldc in float64s): the Go loop's adds in its order.
  (func (export "col2im64") (param $col i32) (param $ldc i32) (param $gin i32)
    (param $cin i32) (param $T i32) (param $H i32) (param $W i32) (param $Ho i32) (param $Wo i32)
    (param $k i32) (param $stride i32) (param $pad i32)
    (local $ci i32) (local $ky i32) (local $kx i32) (local $t i32) (local $oy i32) (local $ox i32)
    (local $iy i32) (local $ix i32) (local $rowp i32) (local $plane i32) (local $s i32) (local $d i32)
    (local $n i32) (local $src i32)
    (memory.fill (local.get $gin) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (local.get $cin) (local.get $T)) (i32.mul (local.get $H) (local.get $W))) (i32.const 3)))
    (local.set $rowp (local.get $col))
    (local.set $ci (i32.const 0))
    (loop $ciloop
      (local.set $ky (i32.const 0))
      (loop $kyloop
        (local.set $kx (i32.const 0))
        (loop $kxloop
          (local.set $t (i32.const 0))
          (loop $tloop
            (local.set $plane (i32.add (local.get $gin) (i32.shl
              (i32.mul (i32.add (i32.mul (local.get $ci) (local.get $T)) (local.get $t)) (i32.mul (local.get $H) (local.get $W)))
              (i32.const 3))))
            (local.set $s (i32.add (local.get $rowp) (i32.shl (i32.mul (local.get $t) (i32.mul (local.get $Ho) (local.get $Wo))) (i32.const 3))))
            (local.set $oy (i32.const 0))
            (loop $oyloop
              (local.set $iy (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $stride)) (local.get $pad)) (local.get $ky)))
              (if (i32.and (i32.ge_s (local.get $iy) (i32.const 0)) (i32.lt_s (local.get $iy) (local.get $H)))
                (then
                  (if (i32.eq (local.get $stride) (i32.const 1))
                    (then
                      ;; ix = ox - pad + kx: the outputs [ox0, ox1) land in
                      ;; the row, side by side; four at a time, the same adds
                      (local.set $ox (select (i32.sub (local.get $pad) (local.get $kx)) (i32.const 0)
                        (i32.gt_s (i32.sub (local.get $pad) (local.get $kx)) (i32.const 0))))
                      (local.set $n (i32.sub (local.get $W) (i32.sub (local.get $kx) (local.get $pad))))
                      (local.set $n (i32.sub (select (local.get $n) (local.get $Wo) (i32.lt_s (local.get $n) (local.get $Wo))) (local.get $ox)))
                      (local.set $d (i32.add (local.get $plane) (i32.shl (i32.add (i32.mul (local.get $iy) (local.get $W))
                        (i32.add (local.get $ox) (i32.sub (local.get $kx) (local.get $pad)))) (i32.const 3))))
                      (local.set $src (i32.add (local.get $s) (i32.shl (i32.add (i32.mul (local.get $oy) (local.get $Wo)) (local.get $ox)) (i32.const 3))))
                      (block $vend
                        (loop $vloop
                          (br_if $vend (i32.lt_s (local.get $n) (i32.const 2)))
                          (v128.store (local.get $d) (f64x2.add (v128.load (local.get $d)) (v128.load (local.get $src))))
                          (local.set $d (i32.add (local.get $d) (i32.const 16)))
                          (local.set $src (i32.add (local.get $src) (i32.const 16)))
                          (local.set $n (i32.sub (local.get $n) (i32.const 2)))
                          (br $vloop)))
                      (block $send
                        (loop $sloop
                          (br_if $send (i32.le_s (local.get $n) (i32.const 0)))
                          (f64.store (local.get $d) (f64.add (f64.load (local.get $d)) (f64.load (local.get $src))))
                          (local.set $d (i32.add (local.get $d) (i32.const 8)))
                          (local.set $src (i32.add (local.get $src) (i32.const 8)))
                          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                          (br $sloop))))
                    (else
                  (local.set $ox (i32.const 0))
                  (loop $oxloop
                    (local.set $ix (i32.add (i32.sub (i32.mul (local.get $ox) (local.get $stride)) (local.get $pad)) (local.get $kx)))
                    (if (i32.and (i32.ge_s (local.get $ix) (i32.const 0)) (i32.lt_s (local.get $ix) (local.get $W)))
                      (then
                        (local.set $d (i32.add (local.get $plane) (i32.shl (i32.add (i32.mul (local.get $iy) (local.get $W)) (local.get $ix)) (i32.const 3))))
                        (f64.store (local.get $d) (f64.add (f64.load (local.get $d))
                          (f64.load (i32.add (local.get $s) (i32.shl (i32.add (i32.mul (local.get $oy) (local.get $Wo)) (local.get $ox)) (i32.const 3))))))))
                    (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                    (br_if $oxloop (i32.lt_s (local.get $ox) (local.get $Wo))))))))
              (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
              (br_if $oyloop (i32.lt_s (local.get $oy) (local.get $Ho))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br_if $tloop (i32.lt_s (local.get $t) (local.get $T))))
          (local.set $rowp (i32.add (local.get $rowp) (i32.shl (local.get $ldc) (i32.const 3))))
          (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
          (br_if $kxloop (i32.lt_s (local.get $kx) (local.get $k))))
        (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
        (br_if $kyloop (i32.lt_s (local.get $ky) (local.get $k))))
      (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
      (br_if $ciloop (i32.lt_s (local.get $ci) (local.get $cin)))))
  ;; iffwd(in, out, keep, th, ths, C, T, hw): ifForward (snn/layers.go) on
  ;; C channels of T steps of hw neurons, hw a multiple of 4, four neurons at
  ;; a time; channel c's threshold is the float at byte th + c*ths (ths 0: one
  ;; threshold). The same float operations in the same order as the Go loop,
  ;; a spike's branches as bit selects: the numbers are the Go loop's, bit
  ;; for bit. Returns the number of spikes.
  (func (export "iffwd") (param $in i32) (param $out i32) (param $keep i32) (param $th i32) (param $ths i32)
    (param $C i32) (param $T i32) (param $hw i32) (result i32)
    (local $c i32) (local $p i32) (local $t i32) (local $i i32) (local $base i32) (local $hwb i32)
    (local $thv v128) (local $mem v128) (local $d v128) (local $m v128) (local $cnt v128)
    (local.set $hwb (i32.shl (local.get $hw) (i32.const 2)))
    (block $cend
      (loop $cloop
        (br_if $cend (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $thv (f32x4.splat (f32.load (i32.add (local.get $th) (i32.mul (local.get $c) (local.get $ths))))))
        (local.set $p (i32.const 0))
        (block $pend
          (loop $ploop
            (br_if $pend (i32.ge_u (local.get $p) (local.get $hwb)))
            (local.set $mem (f32x4.mul (f32x4.splat (f32.const 0.5)) (local.get $thv)))
            (local.set $i (i32.add (local.get $base) (local.get $p)))
            (local.set $t (i32.const 0))
            (block $tend
              (loop $tloop
                (br_if $tend (i32.ge_u (local.get $t) (local.get $T)))
                (local.set $mem (f32x4.add (local.get $mem) (v128.load (i32.add (local.get $in) (local.get $i)))))
                (local.set $d (f32x4.sub (local.get $mem) (local.get $thv)))
                (v128.store (i32.add (local.get $keep) (local.get $i)) (local.get $d))
                (local.set $m (f32x4.ge (local.get $d) (v128.const i32x4 0 0 0 0)))
                (v128.store (i32.add (local.get $out) (local.get $i)) (v128.and (local.get $m) (local.get $thv)))
                (local.set $mem (v128.bitselect (f32x4.sub (local.get $mem) (local.get $thv)) (local.get $mem) (local.get $m)))
                (local.set $cnt (i32x4.sub (local.get $cnt) (local.get $m)))
                (local.set $i (i32.add (local.get $i) (local.get $hwb)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $tloop)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $ploop)))
        (local.set $base (i32.add (local.get $base) (i32.mul (local.get $hwb) (local.get $T))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop)))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $cnt)) (i32x4.extract_lane 1 (local.get $cnt)))
      (i32.add (i32x4.extract_lane 2 (local.get $cnt)) (i32x4.extract_lane 3 (local.get $cnt)))))

  ;; ifbwd(gout, gin, keep, th, ths, sums, C, T, hw, gamma, inv): ifBackward
  ;; (snn/layers.go) without the Detail, laid out as iffwd, four neurons at a
  ;; time; channel c's path sums (crossing, amplitude, reset, init) go to the
  ;; four float64 at byte sums + 32c, each added up over the neurons in their
  ;; order, as the Go loop does: bit for bit its numbers.
  (func (export "ifbwd") (param $gout i32) (param $gin i32) (param $keep i32) (param $th i32) (param $ths i32)
    (param $sums i32) (param $C i32) (param $T i32) (param $hw i32) (param $gamma f32) (param $inv f32)
    (local $c i32) (local $p i32) (local $t i32) (local $i i32) (local $base i32) (local $hwb i32) (local $l i32)
    (local $thv v128) (local $gv v128) (local $iv v128)
    (local $gm v128) (local $cr v128) (local $am v128) (local $re v128)
    (local $d v128) (local $go v128) (local $m v128) (local $a v128) (local $g v128)
    (local $cross f64) (local $amp f64) (local $reset f64) (local $init f64)
    (local.set $hwb (i32.shl (local.get $hw) (i32.const 2)))
    (local.set $gv (f32x4.splat (local.get $gamma)))
    (local.set $iv (f32x4.splat (local.get $inv)))
    (block $cend
      (loop $cloop
        (br_if $cend (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $thv (f32x4.splat (f32.load (i32.add (local.get $th) (i32.mul (local.get $c) (local.get $ths))))))
        (local.set $cross (f64.const 0))
        (local.set $amp (f64.const 0))
        (local.set $reset (f64.const 0))
        (local.set $init (f64.const 0))
        (local.set $p (i32.const 0))
        (block $pend
          (loop $ploop
            (br_if $pend (i32.ge_u (local.get $p) (local.get $hwb)))
            (local.set $gm (v128.const i32x4 0 0 0 0))
            (local.set $cr (v128.const i32x4 0 0 0 0))
            (local.set $am (v128.const i32x4 0 0 0 0))
            (local.set $re (v128.const i32x4 0 0 0 0))
            ;; from the last step back
            (local.set $i (i32.add (i32.add (local.get $base) (local.get $p))
              (i32.mul (local.get $hwb) (i32.sub (local.get $T) (i32.const 1)))))
            (local.set $t (local.get $T))
            (block $tend
              (loop $tloop
                (br_if $tend (i32.eqz (local.get $t)))
                (local.set $d (v128.load (i32.add (local.get $keep) (local.get $i))))
                (local.set $go (v128.load (i32.add (local.get $gout) (local.get $i))))
                (local.set $m (f32x4.ge (local.get $d) (v128.const i32x4 0 0 0 0)))
                (local.set $am (v128.bitselect (f32x4.add (local.get $am) (local.get $go)) (local.get $am) (local.get $m)))
                (local.set $re (v128.bitselect (f32x4.sub (local.get $re) (local.get $gm)) (local.get $re) (local.get $m)))
                (local.set $a (f32x4.sub (local.get $gv) (f32x4.abs (local.get $d))))
                (local.set $g (v128.and
                  (f32x4.gt (local.get $a) (v128.const i32x4 0 0 0 0))
                  (f32x4.mul (f32x4.mul (f32x4.mul (local.get $thv) (f32x4.sub (local.get $go) (local.get $gm))) (local.get $a)) (local.get $iv))))
                (local.set $cr (f32x4.sub (local.get $cr) (local.get $g)))
                (local.set $gm (f32x4.add (local.get $gm) (local.get $g)))
                (v128.store (i32.add (local.get $gin) (local.get $i)) (local.get $gm))
                (local.set $i (i32.sub (local.get $i) (local.get $hwb)))
                (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                (br $tloop)))
            ;; the four neurons' sums, in their order
            (local.set $cross (f64.add (local.get $cross) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $cr)))))
            (local.set $amp (f64.add (local.get $amp) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $am)))))
            (local.set $reset (f64.add (local.get $reset) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $re)))))
            (local.set $init (f64.add (local.get $init) (f64.mul (f64.const 0.5) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $gm))))))
            (local.set $cross (f64.add (local.get $cross) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $cr)))))
            (local.set $amp (f64.add (local.get $amp) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $am)))))
            (local.set $reset (f64.add (local.get $reset) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $re)))))
            (local.set $init (f64.add (local.get $init) (f64.mul (f64.const 0.5) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $gm))))))
            (local.set $cross (f64.add (local.get $cross) (f64.promote_f32 (f32x4.extract_lane 2 (local.get $cr)))))
            (local.set $amp (f64.add (local.get $amp) (f64.promote_f32 (f32x4.extract_lane 2 (local.get $am)))))
            (local.set $reset (f64.add (local.get $reset) (f64.promote_f32 (f32x4.extract_lane 2 (local.get $re)))))
            (local.set $init (f64.add (local.get $init) (f64.mul (f64.const 0.5) (f64.promote_f32 (f32x4.extract_lane 2 (local.get $gm))))))
            (local.set $cross (f64.add (local.get $cross) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $cr)))))
            (local.set $amp (f64.add (local.get $amp) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $am)))))
            (local.set $reset (f64.add (local.get $reset) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $re)))))
            (local.set $init (f64.add (local.get $init) (f64.mul (f64.const 0.5) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $gm))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $ploop)))
        (local.set $l (i32.add (local.get $sums) (i32.shl (local.get $c) (i32.const 5))))
        (f64.store (local.get $l) (local.get $cross))
        (f64.store offset=8 (local.get $l) (local.get $amp))
        (f64.store offset=16 (local.get $l) (local.get $reset))
        (f64.store offset=24 (local.get $l) (local.get $init))
        (local.set $base (i32.add (local.get $base) (i32.mul (local.get $hwb) (local.get $T))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop))))

  ;; pool2(in, out, planes, H, W, inv): avgpoolForward (snn/layers.go) for a
  ;; 2x2 window, stride 2, W a multiple of 8, four outputs at a time: each
  ;; output is (((0 + a) + b) + c) + d times inv, as the Go loop adds them.
  (func (export "pool2") (param $in i32) (param $out i32) (param $planes i32) (param $H i32) (param $W i32) (param $inv f32)
    (local $r0 i32) (local $r1 i32) (local $o i32) (local $rows i32) (local $x i32) (local $wb i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $s v128) (local $iv v128)
    (local.set $wb (i32.shl (local.get $W) (i32.const 2)))
    (local.set $iv (f32x4.splat (local.get $inv)))
    (local.set $r0 (local.get $in))
    (local.set $o (local.get $out))
    ;; every pair of input rows, over all planes
    (local.set $rows (i32.mul (local.get $planes) (i32.shr_u (local.get $H) (i32.const 1))))
    (block $rend
      (loop $rloop
        (br_if $rend (i32.eqz (local.get $rows)))
        (local.set $r1 (i32.add (local.get $r0) (local.get $wb)))
        (local.set $x (i32.const 0))
        (block $xend
          (loop $xloop
            (br_if $xend (i32.ge_u (local.get $x) (local.get $wb)))
            (local.set $a (v128.load (i32.add (local.get $r0) (local.get $x))))
            (local.set $b (v128.load offset=16 (i32.add (local.get $r0) (local.get $x))))
            (local.set $c (v128.load (i32.add (local.get $r1) (local.get $x))))
            (local.set $d (v128.load offset=16 (i32.add (local.get $r1) (local.get $x))))
            (local.set $s (f32x4.add (v128.const i32x4 0 0 0 0)
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b))))
            (local.set $s (f32x4.add (local.get $s)
              (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b))))
            (local.set $s (f32x4.add (local.get $s)
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $c) (local.get $d))))
            (local.set $s (f32x4.add (local.get $s)
              (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $c) (local.get $d))))
            (v128.store (local.get $o) (f32x4.mul (local.get $s) (local.get $iv)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $x (i32.add (local.get $x) (i32.const 32)))
            (br $xloop)))
        (local.set $r0 (i32.add (local.get $r1) (local.get $wb)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $rloop))))

  ;; unpool2(gout, gin, planes, H, W, inv): avgpoolBackward for pool2's
  ;; layers: each input of a window gets 0 + gout*inv, as the Go loop's
  ;; cleared gin plus its one add.
  (func (export "unpool2") (param $gout i32) (param $gin i32) (param $planes i32) (param $H i32) (param $W i32) (param $inv f32)
    (local $r0 i32) (local $r1 i32) (local $g i32) (local $rows i32) (local $x i32) (local $wb i32)
    (local $v v128) (local $lo v128) (local $hi v128) (local $iv v128)
    (local.set $wb (i32.shl (local.get $W) (i32.const 2)))
    (local.set $iv (f32x4.splat (local.get $inv)))
    (local.set $r0 (local.get $gin))
    (local.set $g (local.get $gout))
    (local.set $rows (i32.mul (local.get $planes) (i32.shr_u (local.get $H) (i32.const 1))))
    (block $rend
      (loop $rloop
        (br_if $rend (i32.eqz (local.get $rows)))
        (local.set $r1 (i32.add (local.get $r0) (local.get $wb)))
        (local.set $x (i32.const 0))
        (block $xend
          (loop $xloop
            (br_if $xend (i32.ge_u (local.get $x) (local.get $wb)))
            (local.set $v (f32x4.mul (v128.load (local.get $g)) (local.get $iv)))
            (local.set $lo (f32x4.add (v128.const i32x4 0 0 0 0)
              (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $v) (local.get $v))))
            (local.set $hi (f32x4.add (v128.const i32x4 0 0 0 0)
              (i8x16.shuffle 8 9 10 11 8 9 10 11 12 13 14 15 12 13 14 15 (local.get $v) (local.get $v))))
            (v128.store (i32.add (local.get $r0) (local.get $x)) (local.get $lo))
            (v128.store offset=16 (i32.add (local.get $r0) (local.get $x)) (local.get $hi))
            (v128.store (i32.add (local.get $r1) (local.get $x)) (local.get $lo))
            (v128.store offset=16 (i32.add (local.get $r1) (local.get $x)) (local.get $hi))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $x (i32.add (local.get $x) (i32.const 32)))
            (br $xloop)))
        (local.set $r0 (i32.add (local.get $r1) (local.get $wb)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $rloop))))
  ;; transpose(dst, src, r, c): dst (c x r) = src (r x c) transposed, r and
  ;; c multiples of 4, in 4x4 blocks: four rows loaded, interleaved in pairs
  ;; and then in halves, stored as four columns. Only moves floats, so the
  ;; Go loop's result bit for bit.
  (func (export "transpose") (param $dst i32) (param $src i32) (param $r i32) (param $c i32)
    (local $i i32) (local $j i32) (local $rb i32) (local $cb i32) (local $s i32) (local $d i32)
    (local $a v128) (local $b v128) (local $e v128) (local $f v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rb (i32.shl (local.get $r) (i32.const 2)))
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (block $iend
      (loop $iloop
        (br_if $iend (i32.ge_u (local.get $i) (local.get $r)))
        (local.set $j (i32.const 0))
        (block $jend
          (loop $jloop
            (br_if $jend (i32.ge_u (local.get $j) (local.get $c)))
            (local.set $s (i32.add (local.get $src)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $c)) (local.get $j)) (i32.const 2))))
            (local.set $a (v128.load (local.get $s)))
            (local.set $b (v128.load (i32.add (local.get $s) (local.get $cb))))
            (local.set $e (v128.load (i32.add (local.get $s) (i32.shl (local.get $cb) (i32.const 1)))))
            (local.set $f (v128.load (i32.add (local.get $s) (i32.mul (local.get $cb) (i32.const 3)))))
            ;; a0 b0 a1 b1, a2 b2 a3 b3, e0 f0 e1 f1, e2 f2 e3 f3
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $e) (local.get $f)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $e) (local.get $f)))
            (local.set $d (i32.add (local.get $dst)
              (i32.shl (i32.add (i32.mul (local.get $j) (local.get $r)) (local.get $i)) (i32.const 2))))
            (v128.store (local.get $d)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $d) (local.get $rb))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $d) (i32.shl (local.get $rb) (i32.const 1)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (v128.store (i32.add (local.get $d) (i32.mul (local.get $rb) (i32.const 3)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jloop)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $iloop)))
  )
  ;; iffwd64(in, out, keep, th, ths, C, T, hw): iffwd in float64, hw a
  ;; multiple of 2, two neurons at a time (ths 0 or 8): the Go loop's
  ;; numbers bit for bit. Returns the number of spikes.
  (func (export "iffwd64") (param $in i32) (param $out i32) (param $keep i32) (param $th i32) (param $ths i32)
    (param $C i32) (param $T i32) (param $hw i32) (result i32)
    (local $c i32) (local $p i32) (local $t i32) (local $i i32) (local $base i32) (local $hwb i32)
    (local $thv v128) (local $mem v128) (local $d v128) (local $m v128) (local $cnt v128)
    (local.set $hwb (i32.shl (local.get $hw) (i32.const 3)))
    (block $cend
      (loop $cloop
        (br_if $cend (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $thv (f64x2.splat (f64.load (i32.add (local.get $th) (i32.mul (local.get $c) (local.get $ths))))))
        (local.set $p (i32.const 0))
        (block $pend
          (loop $ploop
            (br_if $pend (i32.ge_u (local.get $p) (local.get $hwb)))
            (local.set $mem (f64x2.mul (f64x2.splat (f64.const 0.5)) (local.get $thv)))
            (local.set $i (i32.add (local.get $base) (local.get $p)))
            (local.set $t (i32.const 0))
            (block $tend
              (loop $tloop
                (br_if $tend (i32.ge_u (local.get $t) (local.get $T)))
                (local.set $mem (f64x2.add (local.get $mem) (v128.load (i32.add (local.get $in) (local.get $i)))))
                (local.set $d (f64x2.sub (local.get $mem) (local.get $thv)))
                (v128.store (i32.add (local.get $keep) (local.get $i)) (local.get $d))
                (local.set $m (f64x2.ge (local.get $d) (v128.const i32x4 0 0 0 0)))
                (v128.store (i32.add (local.get $out) (local.get $i)) (v128.and (local.get $m) (local.get $thv)))
                (local.set $mem (v128.bitselect (f64x2.sub (local.get $mem) (local.get $thv)) (local.get $mem) (local.get $m)))
                (local.set $cnt (i64x2.sub (local.get $cnt) (local.get $m)))
                (local.set $i (i32.add (local.get $i) (local.get $hwb)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $tloop)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $ploop)))
        (local.set $base (i32.add (local.get $base) (i32.mul (local.get $hwb) (local.get $T))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop)))
    (i32.wrap_i64 (i64.add (i64x2.extract_lane 0 (local.get $cnt)) (i64x2.extract_lane 1 (local.get $cnt)))))

  ;; ifbwd64(gout, gin, keep, th, ths, sums, C, T, hw, gamma, inv): ifbwd
  ;; in float64, two neurons at a time; the path sums added up over the
  ;; neurons in their order: bit for bit the Go loop's numbers.
  (func (export "ifbwd64") (param $gout i32) (param $gin i32) (param $keep i32) (param $th i32) (param $ths i32)
    (param $sums i32) (param $C i32) (param $T i32) (param $hw i32) (param $gamma f64) (param $inv f64)
    (local $c i32) (local $p i32) (local $t i32) (local $i i32) (local $base i32) (local $hwb i32) (local $l i32)
    (local $thv v128) (local $gv v128) (local $iv v128)
    (local $gm v128) (local $cr v128) (local $am v128) (local $re v128)
    (local $d v128) (local $go v128) (local $m v128) (local $a v128) (local $g v128)
    (local $cross f64) (local $amp f64) (local $reset f64) (local $init f64)
    (local.set $hwb (i32.shl (local.get $hw) (i32.const 3)))
    (local.set $gv (f64x2.splat (local.get $gamma)))
    (local.set $iv (f64x2.splat (local.get $inv)))
    (block $cend
      (loop $cloop
        (br_if $cend (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $thv (f64x2.splat (f64.load (i32.add (local.get $th) (i32.mul (local.get $c) (local.get $ths))))))
        (local.set $cross (f64.const 0))
        (local.set $amp (f64.const 0))
        (local.set $reset (f64.const 0))
        (local.set $init (f64.const 0))
        (local.set $p (i32.const 0))
        (block $pend
          (loop $ploop
            (br_if $pend (i32.ge_u (local.get $p) (local.get $hwb)))
            (local.set $gm (v128.const i32x4 0 0 0 0))
            (local.set $cr (v128.const i32x4 0 0 0 0))
            (local.set $am (v128.const i32x4 0 0 0 0))
            (local.set $re (v128.const i32x4 0 0 0 0))
            ;; from the last step back
            (local.set $i (i32.add (i32.add (local.get $base) (local.get $p))
              (i32.mul (local.get $hwb) (i32.sub (local.get $T) (i32.const 1)))))
            (local.set $t (local.get $T))
            (block $tend
              (loop $tloop
                (br_if $tend (i32.eqz (local.get $t)))
                (local.set $d (v128.load (i32.add (local.get $keep) (local.get $i))))
                (local.set $go (v128.load (i32.add (local.get $gout) (local.get $i))))
                (local.set $m (f64x2.ge (local.get $d) (v128.const i32x4 0 0 0 0)))
                (local.set $am (v128.bitselect (f64x2.add (local.get $am) (local.get $go)) (local.get $am) (local.get $m)))
                (local.set $re (v128.bitselect (f64x2.sub (local.get $re) (local.get $gm)) (local.get $re) (local.get $m)))
                (local.set $a (f64x2.sub (local.get $gv) (f64x2.abs (local.get $d))))
                (local.set $g (v128.and
                  (f64x2.gt (local.get $a) (v128.const i32x4 0 0 0 0))
                  (f64x2.mul (f64x2.mul (f64x2.mul (local.get $thv) (f64x2.sub (local.get $go) (local.get $gm))) (local.get $a)) (local.get $iv))))
                (local.set $cr (f64x2.sub (local.get $cr) (local.get $g)))
                (local.set $gm (f64x2.add (local.get $gm) (local.get $g)))
                (v128.store (i32.add (local.get $gin) (local.get $i)) (local.get $gm))
                (local.set $i (i32.sub (local.get $i) (local.get $hwb)))
                (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                (br $tloop)))
            ;; the two neurons' sums, in their order
            (local.set $cross (f64.add (local.get $cross) (f64x2.extract_lane 0 (local.get $cr))))
            (local.set $amp (f64.add (local.get $amp) (f64x2.extract_lane 0 (local.get $am))))
            (local.set $reset (f64.add (local.get $reset) (f64x2.extract_lane 0 (local.get $re))))
            (local.set $init (f64.add (local.get $init) (f64.mul (f64.const 0.5) (f64x2.extract_lane 0 (local.get $gm)))))
            (local.set $cross (f64.add (local.get $cross) (f64x2.extract_lane 1 (local.get $cr))))
            (local.set $amp (f64.add (local.get $amp) (f64x2.extract_lane 1 (local.get $am))))
            (local.set $reset (f64.add (local.get $reset) (f64x2.extract_lane 1 (local.get $re))))
            (local.set $init (f64.add (local.get $init) (f64.mul (f64.const 0.5) (f64x2.extract_lane 1 (local.get $gm)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $ploop)))
        (local.set $l (i32.add (local.get $sums) (i32.shl (local.get $c) (i32.const 5))))
        (f64.store (local.get $l) (local.get $cross))
        (f64.store offset=8 (local.get $l) (local.get $amp))
        (f64.store offset=16 (local.get $l) (local.get $reset))
        (f64.store offset=24 (local.get $l) (local.get $init))
        (local.set $base (i32.add (local.get $base) (i32.mul (local.get $hwb) (local.get $T))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop))))

  ;; pool2_64(in, out, planes, H, W, inv): pool2 in float64, W a multiple
  ;; of 4, two outputs at a time, each (((0 + a) + b) + c) + d times inv.
  (func (export "pool2_64") (param $in i32) (param $out i32) (param $planes i32) (param $H i32) (param $W i32) (param $inv f64)
    (local $r0 i32) (local $r1 i32) (local $o i32) (local $rows i32) (local $x i32) (local $wb i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $s v128) (local $iv v128)
    (local.set $wb (i32.shl (local.get $W) (i32.const 3)))
    (local.set $iv (f64x2.splat (local.get $inv)))
    (local.set $r0 (local.get $in))
    (local.set $o (local.get $out))
    (local.set $rows (i32.mul (local.get $planes) (i32.shr_u (local.get $H) (i32.const 1))))
    (block $rend
      (loop $rloop
        (br_if $rend (i32.eqz (local.get $rows)))
        (local.set $r1 (i32.add (local.get $r0) (local.get $wb)))
        (local.set $x (i32.const 0))
        (block $xend
          (loop $xloop
            (br_if $xend (i32.ge_u (local.get $x) (local.get $wb)))
            (local.set $a (v128.load (i32.add (local.get $r0) (local.get $x))))
            (local.set $b (v128.load offset=16 (i32.add (local.get $r0) (local.get $x))))
            (local.set $c (v128.load (i32.add (local.get $r1) (local.get $x))))
            (local.set $d (v128.load offset=16 (i32.add (local.get $r1) (local.get $x))))
            (local.set $s (f64x2.add (v128.const i32x4 0 0 0 0)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a) (local.get $b))))
            (local.set $s (f64x2.add (local.get $s)
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a) (local.get $b))))
            (local.set $s (f64x2.add (local.get $s)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $c) (local.get $d))))
            (local.set $s (f64x2.add (local.get $s)
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $c) (local.get $d))))
            (v128.store (local.get $o) (f64x2.mul (local.get $s) (local.get $iv)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $x (i32.add (local.get $x) (i32.const 32)))
            (br $xloop)))
        (local.set $r0 (i32.add (local.get $r1) (local.get $wb)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $rloop))))

  ;; unpool2_64(gout, gin, planes, H, W, inv): unpool2 in float64, W a
  ;; multiple of 4: each input of a window gets 0 + gout*inv.
  (func (export "unpool2_64") (param $gout i32) (param $gin i32) (param $planes i32) (param $H i32) (param $W i32) (param $inv f64)
    (local $r0 i32) (local $r1 i32) (local $g i32) (local $rows i32) (local $x i32) (local $wb i32)
    (local $v v128) (local $lo v128) (local $hi v128) (local $iv v128)
    (local.set $wb (i32.shl (local.get $W) (i32.const 3)))
    (local.set $iv (f64x2.splat (local.get $inv)))
    (local.set $r0 (local.get $gin))
    (local.set $g (local.get $gout))
    (local.set $rows (i32.mul (local.get $planes) (i32.shr_u (local.get $H) (i32.const 1))))
    (block $rend
      (loop $rloop
        (br_if $rend (i32.eqz (local.get $rows)))
        (local.set $r1 (i32.add (local.get $r0) (local.get $wb)))
        (local.set $x (i32.const 0))
        (block $xend
          (loop $xloop
            (br_if $xend (i32.ge_u (local.get $x) (local.get $wb)))
            (local.set $v (f64x2.mul (v128.load (local.get $g)) (local.get $iv)))
            (local.set $lo (f64x2.add (v128.const i32x4 0 0 0 0)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
            (local.set $hi (f64x2.add (v128.const i32x4 0 0 0 0)
              (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))))
            (v128.store (i32.add (local.get $r0) (local.get $x)) (local.get $lo))
            (v128.store offset=16 (i32.add (local.get $r0) (local.get $x)) (local.get $hi))
            (v128.store (i32.add (local.get $r1) (local.get $x)) (local.get $lo))
            (v128.store offset=16 (i32.add (local.get $r1) (local.get $x)) (local.get $hi))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $x (i32.add (local.get $x) (i32.const 32)))
            (br $xloop)))
        (local.set $r0 (i32.add (local.get $r1) (local.get $wb)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $rloop))))

  ;; transpose64(dst, src, r, c): transpose in float64, r and c multiples
  ;; of 2, in 2x2 blocks: two rows loaded, their halves paired, stored as
  ;; two columns.
  (func (export "transpose64") (param $dst i32) (param $src i32) (param $r i32) (param $c i32)
    (local $i i32) (local $j i32) (local $rb i32) (local $cb i32) (local $s i32) (local $d i32)
    (local $a v128) (local $b v128)
    (local.set $rb (i32.shl (local.get $r) (i32.const 3)))
    (local.set $cb (i32.shl (local.get $c) (i32.const 3)))
    (block $iend
      (loop $iloop
        (br_if $iend (i32.ge_u (local.get $i) (local.get $r)))
        (local.set $s (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $cb))))
        (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $j (i32.const 0))
        (block $jend
          (loop $jloop
            (br_if $jend (i32.ge_u (local.get $j) (local.get $c)))
            (local.set $a (v128.load (local.get $s)))
            (local.set $b (v128.load (i32.add (local.get $s) (local.get $cb))))
            (v128.store (local.get $d)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a) (local.get $b)))
            (v128.store (i32.add (local.get $d) (local.get $rb))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a) (local.get $b)))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (local.set $d (i32.add (local.get $d) (i32.shl (local.get $rb) (i32.const 1))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $jloop)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $iloop)))
  )
  ;; panels64(dst, b, n, k): b (k x n float64, row-major) as gemm64 reads
  ;; it, panels of 4 columns [n4/4][k][4] (n4 = n rounded up to 4), the
  ;; columns past n zero. Only moves values.
  (func (export "panels64") (param $dst i32) (param $b i32) (param $n i32) (param $k i32)
    (local $q i32) (local $j i32) (local $r i32) (local $n4 i32) (local $kb32 i32) (local $src i32) (local $d i32)
    (local.set $n4 (i32.and (i32.add (local.get $n) (i32.const 3)) (i32.const -4)))
    (local.set $kb32 (i32.shl (local.get $k) (i32.const 5)))
    (local.set $src (local.get $b))
    (block $qend
      (loop $qloop
        (br_if $qend (i32.ge_u (local.get $q) (local.get $k)))
        ;; row q: its full groups of 4 to offset 32q of each panel
        (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $q) (i32.const 5))))
        (local.set $j (i32.const 0))
        (block $jend
          (loop $jloop
            (br_if $jend (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
            (v128.store (local.get $d) (v128.load (local.get $src)))
            (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $src)))
            (local.set $src (i32.add (local.get $src) (i32.const 32)))
            (local.set $d (i32.add (local.get $d) (local.get $kb32)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jloop)))
        ;; the last, partial group, zero filled
        (if (i32.lt_u (local.get $j) (local.get $n4))
          (then
            (local.set $r (i32.const 0))
            (loop $rloop
              (if (i32.lt_u (i32.add (local.get $j) (local.get $r)) (local.get $n))
                (then
                  (f64.store (local.get $d) (f64.load (local.get $src)))
                  (local.set $src (i32.add (local.get $src) (i32.const 8))))
                (else (f64.store (local.get $d) (f64.const 0))))
              (local.set $d (i32.add (local.get $d) (i32.const 8)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br_if $rloop (i32.lt_u (local.get $r) (i32.const 4))))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $qloop)))
  )
)
