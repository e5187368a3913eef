;; Hand-written cases for the rewriter: loops, nesting, br_table, calls through imports, tables and
;; ref.func, recursion, multi-value blocks and loops with parameters, a start function, SIMD and bulk
;; memory. Regenerate features.wasm with `go generate` (needs wabt's wat2wasm).
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "g0" (global $g0 i32))
  (memory (export "memory") 1)
  (table $t 4 funcref)
  (global $started (mut i32) (i32.const 0))
  (global $fref funcref (ref.func $double))
  (elem (table $t) (i32.const 0) func $double $square)
  (elem declare func $triple)
  (data (i32.const 16) "hello, wasm")
  (type $unop (func (param i32) (result i32)))
  (start $init)

  (func $init (global.set $started (i32.const 7)))
  (func $double (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func $triple (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))

  (func (export "started") (result i32) (i32.add (global.get $started) (global.get $g0)))

  ;; sum of 0..n-1: the loop body runs exactly n times (n >= 1)
  (func $sum (export "sum") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))

  (func (export "nested") (param $n i32) (param $m i32) (result i32)
    (local $i i32) (local $j i32) (local $acc i32)
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (i32.const 0))
        (loop $inner
          (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31)) (i32.add (local.get $i) (local.get $j))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $inner (i32.lt_u (local.get $j) (local.get $m))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (local.get $acc))

  ;; a state machine driven by br_table inside a loop
  (func (export "machine") (param $x i32) (result i32)
    (local $state i32) (local $steps i32)
    (local.set $state (i32.and (local.get $x) (i32.const 3)))
    (block $exit
      (loop $next
        (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
        (br_if $exit (i32.gt_u (local.get $steps) (i32.const 1000)))
        (block $s3 (block $s2 (block $s1 (block $s0
          (br_table $s0 $s1 $s2 $s3 $exit (local.get $state)))
          (local.set $state (i32.const 2)) (br $next))
          (local.set $state (i32.const 3)) (br $next))
          (local.set $state (i32.const 4)) (br $next))
        (local.set $state (i32.const 1)) (br $next)))
    (i32.add (i32.mul (local.get $steps) (i32.const 10)) (local.get $state)))

  (func $fact (export "fact") (param $n i32) (result i32)
    (if (result i32) (i32.le_s (local.get $n) (i32.const 1))
      (then (i32.const 1))
      (else (i32.mul (local.get $n) (call $fact (i32.sub (local.get $n) (i32.const 1)))))))

  ;; exponential recursion with bounded depth and no loop
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_s (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (call $add
        (call $fib (i32.sub (local.get $n) (i32.const 1)))
        (call $fib (i32.sub (local.get $n) (i32.const 2)))))))

  (func (export "indirect") (param $i i32) (param $x i32) (result i32)
    (local $r i32)
    (local.set $r (call_indirect (type $unop) (local.get $x) (i32.and (local.get $i) (i32.const 1))))
    (table.set $t (i32.const 2) (ref.func $triple))
    (table.set $t (i32.const 3) (global.get $fref))
    (i32.add (local.get $r)
      (i32.add (call_indirect (type $unop) (local.get $x) (i32.const 2))
               (call_indirect (type $unop) (local.get $x) (i32.const 3)))))

  ;; multi-value: a loop that carries two values as parameters and a block returning two values
  (func (export "fibpair") (param $n i32) (result i32)
    (local $k i32)
    (i32.const 0) (i32.const 1)
    (loop $l (param i32 i32) (result i32 i32)
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (call $step)
      (br_if $l (i32.lt_u (local.get $k) (local.get $n))))
    (drop))
  (func $step (param $a i32) (param $b i32) (result i32 i32)
    (local.get $b) (local.get $a) (local.get $b)
    (block (param i32 i32) (result i32) (i32.add)))

  ;; bulk memory and SIMD inside a loop
  (func (export "bytes") (param $n i32) (result i32)
    (local $i i32) (local $acc v128)
    (memory.fill (i32.const 100) (i32.const 1) (i32.const 64))
    (memory.copy (i32.const 200) (i32.const 16) (i32.const 11))
    (loop $l
      (local.set $acc (i32x4.add (local.get $acc) (v128.load (i32.const 100))))
      (local.set $acc (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (local.get $acc) (local.get $acc)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.add (i32x4.extract_lane 1 (local.get $acc)) (i32.load8_u (i32.const 204))))

  ;; the counter must survive a loop that is entered in unreachable code
  (func (export "dead") (result i32)
    (return (i32.const 5))
    (loop $l (br $l))
    (unreachable))

  ;; A Go-style dispatch loop: each iteration runs one short arm or one long arm, chosen by br_table.
  ;; Its weight is the long arm's path, not the sum of both arms.
  (func (export "dispatch") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $top
      (block $long
        (block $short
          (br_table $short $long (i32.and (local.get $i) (i32.const 1))))
        ;; short arm
        (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $top (i32.lt_u (local.get $i) (local.get $n)))
        (return (local.get $acc)))
      ;; long arm
      (local.set $acc (i32.mul (local.get $acc) (i32.const 3)))
      (local.set $acc (i32.mul (local.get $acc) (i32.const 3)))
      (local.set $acc (i32.mul (local.get $acc) (i32.const 3)))
      (local.set $acc (i32.mul (local.get $acc) (i32.const 3)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))

  ;; The shape of Go's Wasm backend: the resume PC is parameter 0, and every jump, forward or back, sets
  ;; it and branches to the dispatch loop. Sums 0..n-1. In epoch mode only the jump back tests the flag.
  (func (export "godispatch") (param $pc i32) (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $exit
      (loop $top
        (block $s2
          (block $s1
            (block $s0
              (br_table $s0 $s1 $s2 (local.get $pc)))
            ;; segment 0: entry
            (local.set $acc (i32.const 0))
            (local.set $pc (i32.const 2))
            (br $top))
          ;; segment 1: the loop body
          (local.set $acc (i32.add (local.get $acc) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1))))
        ;; segment 2: the loop condition
        (if (i32.lt_u (local.get $i) (local.get $n))
          (then (local.set $pc (i32.const 1)) (br $top)))
        (br $exit)))
    (local.get $acc))

  ;; The same, but the jump back sets a PC the rewriter cannot read: it must test anyway.
  (func (export "godispatch_pc") (param $pc i32) (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $exit
      (loop $top
        (block $s2
          (block $s1
            (block $s0
              (br_table $s0 $s1 $s2 (local.get $pc)))
            (local.set $acc (i32.const 0))
            (local.set $pc (i32.const 2))
            (br $top))
          (local.set $acc (i32.add (local.get $acc) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1))))
        (if (i32.lt_u (local.get $i) (local.get $n))
          (then (local.set $pc (i32.sub (i32.const 2) (i32.const 1))) (br $top)))
        (br $exit)))
    (local.get $acc))

  ;; The same with a conditional jump back: the dispatch loop gets its header test like any loop.
  (func (export "godispatch_brif") (param $pc i32) (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $exit
      (loop $top
        (block $s2
          (block $s1
            (block $s0
              (br_table $s0 $s1 $s2 (local.get $pc)))
            (local.set $acc (i32.const 0))
            (local.set $pc (i32.const 2))
            (br $top))
          (local.set $acc (i32.add (local.get $acc) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1))))
        (local.set $pc (i32.const 1))
        (br_if $top (i32.lt_u (local.get $i) (local.get $n)))
        (br $exit)))
    (local.get $acc))

  ;; A dispatch loop whose jumps all go forward (most small Go functions): it cannot cycle, so it gets
  ;; one entry test ("global.get G; if") and no wrapper.
  (func (export "godispatch_fwd") (param $pc i32) (param $n i32) (result i32)
    (local $acc i32)
    (block $exit
      (loop $top
        (block $s2
          (block $s1
            (block $s0
              (br_table $s0 $s1 $s2 (local.get $pc)))
            (local.set $acc (local.get $n))
            (local.set $pc (i32.const 2))
            (br $top))
          (local.set $acc (i32.add (local.get $acc) (i32.const 1))))
        (local.set $acc (i32.mul (local.get $acc) (i32.const 3)))
        (br $exit)))
    (local.get $acc))
)
