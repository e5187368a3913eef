;; No type, import, global or code section: Instrument must synthesise them in order.
(module (memory (export "memory") 1) (data (i32.const 0) "x"))
