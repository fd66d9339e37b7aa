#pragma once
// The seccomp program every box runs under (after no_new_privs), built by the parent so that the
// child only has to install it. It refuses, with an errno the program can handle:
//  - socket() of any family but AF_UNIX (EACCES): no network even where there is no network
//    namespace (process isolation);
//  - io_uring_setup/enter/register (EPERM): io_uring's own socket and file operations pass no
//    other filter;
//  - unshare, setns, and clone with any CLONE_NEW* flag (EPERM): no user namespace in which the
//    program would hold capabilities; clone3 (ENOSYS, its flags sit behind a pointer), so that libc
//    falls back to clone and threads and fork still work;
//  - bpf, perf_event_open, keyctl/add_key/request_key, userfaultfd, ptrace, process_vm_readv/writev,
//    mount/umount2/pivot_root/chroot, open_by_handle_at, module and kexec loading (EPERM).
// A call from another architecture's table (x32 on x86_64, or a foreign audit arch) kills the process.
#include <linux/filter.h>

#include <vector>

namespace vecrl::sandbox {

std::vector<sock_filter> box_syscall_filter();

// Installs `program` as the calling thread's seccomp filter (no_new_privs must already be set).
// Only system calls: safe in a child made by clone() of a multithreaded parent. Returns 0 or -1.
int install_syscall_filter(const std::vector<sock_filter>& program);

}  // namespace vecrl::sandbox
