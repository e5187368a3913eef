;; The "env" module that features.wasm and tailcall.wasm import.
(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (global (export "g0") i32 (i32.const 35)))
