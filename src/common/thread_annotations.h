// Clang's thread-safety annotations (-Wthread-safety), as macros that expand
// to nothing on other compilers (gcc builds ignore them). They let the
// compiler check who holds which lock, e.g. the engine-thread / HTTP-thread
// hand-off in src/http (SnapshotHolder, MetricsCache). Annotated members need
// an annotated lock type: tkmprom::Mutex (src/common/mutex.h).
//
// Check: CXX=clang++ meson setup build-clang -Dcpp_args=-Wthread-safety
//
// Thread safety: macros only.
#ifndef TKMPROM_SRC_COMMON_THREAD_ANNOTATIONS_H_
#define TKMPROM_SRC_COMMON_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define TKMPROM_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TKMPROM_THREAD_ANNOTATION(x)
#endif

// A type that is a lock ("mutex").
#define CAPABILITY(x) TKMPROM_THREAD_ANNOTATION(capability(x))
// An RAII type that holds a lock for its lifetime.
#define SCOPED_CAPABILITY TKMPROM_THREAD_ANNOTATION(scoped_lockable)
// The member may be read or written only with the lock held.
#define GUARDED_BY(x) TKMPROM_THREAD_ANNOTATION(guarded_by(x))
// What the pointer points to may be used only with the lock held.
#define PT_GUARDED_BY(x) TKMPROM_THREAD_ANNOTATION(pt_guarded_by(x))
// Lock order: this lock is taken before / after the named ones.
#define ACQUIRED_BEFORE(...) TKMPROM_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) TKMPROM_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
// The caller must hold / must not hold the lock.
#define REQUIRES(...) TKMPROM_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) TKMPROM_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// The function takes / releases the lock.
#define ACQUIRE(...) TKMPROM_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) TKMPROM_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) TKMPROM_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// The function returns a reference to the named lock.
#define RETURN_CAPABILITY(x) TKMPROM_THREAD_ANNOTATION(lock_returned(x))
// Opts a function out of the analysis (say why where it is used).
#define NO_THREAD_SAFETY_ANALYSIS TKMPROM_THREAD_ANNOTATION(no_thread_safety_analysis)

#endif  // TKMPROM_SRC_COMMON_THREAD_ANNOTATIONS_H_
