import ctypes, sys
lib = ctypes.CDLL("/work/main/.build/host/runtimes/linux-x64/native/libe_sqlite3.so")
lib.sqlite3_libversion.restype = ctypes.c_char_p
lib.sqlite3_compileoption_get.restype = ctypes.c_char_p
print("e_sqlite3 version", lib.sqlite3_libversion().decode())
i = 0
opts = []
while True:
    o = lib.sqlite3_compileoption_get(i)
    if not o: break
    opts.append(o.decode()); i += 1
print("compile options:", ", ".join(opts))
# open a scratch db (or the one given), query the pragmas the way a fresh connection sees them
path = sys.argv[1] if len(sys.argv) > 1 else ":memory:"
db = ctypes.c_void_p()
flags = 0x00000001 if len(sys.argv) > 1 else 0x6  # READONLY for the real file
rc = lib.sqlite3_open_v2(path.encode(), ctypes.byref(db), flags, None)
assert rc == 0, rc
lib.sqlite3_column_text.restype = ctypes.c_char_p
for pragma in ["journal_mode", "synchronous", "wal_autocheckpoint", "page_size", "busy_timeout", "locking_mode", "cache_size"]:
    st = ctypes.c_void_p()
    rc = lib.sqlite3_prepare_v2(db, f"PRAGMA {pragma}".encode(), -1, ctypes.byref(st), None)
    if rc == 0 and lib.sqlite3_step(st) == 100:
        print(f"PRAGMA {pragma} =", lib.sqlite3_column_text(st, 0).decode())
    lib.sqlite3_finalize(st)
lib.sqlite3_close(db)
