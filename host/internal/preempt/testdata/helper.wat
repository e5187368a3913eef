;; The helper module of twomods.wat: a loop of n iterations.
(module
  (func (export "work") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $exit
      (loop $top
        (br_if $exit (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.get $acc)))
