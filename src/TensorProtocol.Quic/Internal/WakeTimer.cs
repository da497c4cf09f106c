using Microsoft.Win32.SafeHandles;
using TensorProtocol.Quic.Interop;

namespace TensorProtocol.Quic.Internal;

/// <summary>
/// A timerfd the parked loop polls beside its socket and eventfd. A thread that borrowed the loop's turn and left a
/// timer due earlier than the loop's <c>ppoll</c> timeout (the loss-detection timer of the packet it just sent, say)
/// arms it instead of waking the loop: one syscall on that thread, where a wake-up costs the loop a whole turn and a
/// context switch — usually for nothing, because the answer arrives before the timer is due. Armed only by borrowed
/// turns and disarmed by the loop once it runs again, so the loop's own parking costs no extra syscall.
/// All members are called with the endpoint's turn held.
/// </summary>
internal sealed unsafe class WakeTimer : IDisposable
{
    private readonly SafeFileHandle _fd;

    private WakeTimer(SafeFileHandle fd) => _fd = fd;

    /// <summary>Null when the kernel has no timerfd (the loop is then woken the old way).</summary>
    internal static WakeTimer? TryCreate()
    {
        int fd = libc.timerfd_create(libc.CLOCK_MONOTONIC, libc.TFD_NONBLOCK | libc.TFD_CLOEXEC);
        return fd < 0 ? null : new WakeTimer(new SafeFileHandle(fd, ownsHandle: true));
    }

    internal int Fd => (int)_fd.DangerousGetHandle();

    /// <summary>Whether it is armed (or fired and not yet disarmed).</summary>
    internal bool IsArmed { get; private set; }

    /// <summary>Makes the descriptor readable at <paramref name="deadline"/> (CLOCK_MONOTONIC ns, the loop's clock).</summary>
    internal bool TryArm(ulong deadline)
    {
        libc.itimerspec spec = default;
        deadline = Math.Max(deadline, 1); // zero would disarm; a deadline already past fires at once
        spec.it_value.tv_sec = (long)(deadline / 1_000_000_000UL);
        spec.it_value.tv_nsec = (long)(deadline % 1_000_000_000UL);
        if (libc.timerfd_settime(Fd, libc.TFD_TIMER_ABSTIME, &spec, null) != 0)
        {
            return false;
        }
        IsArmed = true;
        return true;
    }

    /// <summary>Stops it and clears a fired expiration (so the descriptor is no longer readable).</summary>
    internal void Disarm()
    {
        libc.itimerspec spec = default;
        _ = libc.timerfd_settime(Fd, 0, &spec, null);
        IsArmed = false;
    }

    public void Dispose() => _fd.Dispose();
}
