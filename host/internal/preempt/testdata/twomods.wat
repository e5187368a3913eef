;; Two modules under one guarded call (a plugin and its helper module): run calls
;; the helper's loop n times. Both are rewritten; both check in.
(module
  (import "helper" "work" (func $work (param i32) (result i32)))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $exit
      (loop $top
        (br_if $exit (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (call $work (i32.const 10))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.get $acc)))
