namespace TensorProtocol.Cli.Tests;

/// <summary>The text of sizes, rates, times left and progress that the live display and the plain lines share.</summary>
public sealed class TransferTextTests
{
    private const long MiB = 1024 * 1024;
    private const long GiB = 1024 * MiB;

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1024, "1.0 KiB")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(MiB - 1, "1024.0 KiB")]
    [InlineData(MiB, "1.0 MiB")]
    [InlineData(512 * MiB, "512.0 MiB")]
    [InlineData(GiB, "1.00 GiB")]
    [InlineData(3 * GiB + GiB / 2, "3.50 GiB")]
    public void Size_Boundaries_BinaryUnits(long bytes, string expected) => Assert.Equal(expected, TransferText.Size(bytes));

    [Fact]
    public void Rate_BytesOverTime_PerSecond()
    {
        Assert.Equal("640.0 MiB/s", TransferText.Rate(640 * MiB, TimeSpan.FromSeconds(1)));
        Assert.Equal("640.0 MiB/s", TransferText.Rate(320 * MiB, TimeSpan.FromMilliseconds(500)));
        Assert.Equal("0 B/s", TransferText.Rate(0, TimeSpan.FromSeconds(1)));
        Assert.Equal("-", TransferText.Rate(MiB, TimeSpan.Zero));
    }

    [Theory]
    [InlineData(0.0, "0 s")]
    [InlineData(0.2, "1 s")]
    [InlineData(1.0, "1 s")]
    [InlineData(59.0, "59 s")]
    [InlineData(59.5, "1 min 00 s")]
    [InlineData(125.0, "2 min 05 s")]
    [InlineData(3599.0, "59 min 59 s")]
    [InlineData(3600.0, "1 h 00 min")]
    [InlineData(2 * 3600 + 7 * 60 + 30, "2 h 07 min")]
    public void Remaining_Seconds_RoundedUp(double seconds, string expected) =>
        Assert.Equal(expected, TransferText.Remaining(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Remaining_Unknown_Dash() => Assert.Equal("-", TransferText.Remaining(null));

    [Theory]
    [InlineData(0, 100, "0 %")]
    [InlineData(50, 100, "50 %")]
    [InlineData(9_999, 10_000, "99 %")]
    [InlineData(100, 100, "100 %")]
    [InlineData(0, 0, "100 %")]
    public void Percent_RoundedDown_OnlyCompleteIs100(long done, long total, string expected) =>
        Assert.Equal(expected, TransferText.Percent(new TransferProgress(done, total, TimeSpan.FromSeconds(1))));

    [Fact]
    public void Progress_HalfwayAt640MiBPerSecond_BytesPercentRateEta()
    {
        var progress = new TransferProgress(512 * MiB, GiB, TimeSpan.FromSeconds(0.8));
        Assert.Equal("512.0 MiB / 1.00 GiB (50 %), 640.0 MiB/s, ETA 1 s", TransferText.Progress(progress));
    }

    [Fact]
    public void Progress_NothingYet_ZeroRateUnknownEta()
    {
        var progress = new TransferProgress(0, 64 * MiB, TimeSpan.Zero);
        Assert.Equal("0 B / 64.0 MiB (0 %), 0 B/s, ETA -", TransferText.Progress(progress));
    }

    [Fact]
    public void Done_Complete_SizeTimeAndRate()
    {
        var progress = new TransferProgress(GiB, GiB, TimeSpan.FromSeconds(1.6));
        Assert.Equal("1.00 GiB in 1.60 s (640.0 MiB/s)", TransferText.Done(progress));
        Assert.Equal("4.0 KiB in 2.5 ms (1.6 MiB/s)", TransferText.Done(new TransferProgress(4096, 4096, TimeSpan.FromMilliseconds(2.5))));
    }
}
