namespace TensorProtocol.Tests;

public sealed class TensorNodeOptionsTests
{
    [Fact]
    public void Defaults_AcceptTensorsOf8GiBAndMore_WithinTheReceiveBudget()
    {
        var options = new TensorNodeOptions();
        Assert.Equal(16L << 30, options.MaxTensorBytes);
        Assert.Equal(16L << 30, options.ReceiveMemoryBudget);
        Assert.True(options.MaxTensorBytes >= 8L << 30);
        Assert.True(options.MaxTensorBytes <= options.ReceiveMemoryBudget, "the largest tensor must fit the budget");
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.ProgressInterval);
        Assert.Equal(long.MaxValue, options.NativeReceiveThreshold); // arrays: a span keeps them alive
        Assert.Equal(2L << 30, options.ReceiveBufferRetention);
        Assert.Equal(TimeSpan.FromSeconds(10), options.ReceiveBufferLifetime);
    }

    [Fact]
    public void Validation_AcceptsAnyNonNegativeMaxTensorBytes_AndRefusesTheRest()
    {
        _ = new TensorNode(new TensorNodeOptions { MaxTensorBytes = 64L << 30, ReceiveMemoryBudget = 64L << 30 });
        _ = new TensorNode(new TensorNodeOptions { MaxTensorBytes = 0 });
        Assert.Equal(nameof(TensorNodeOptions.MaxTensorBytes),
            Assert.Throws<ArgumentOutOfRangeException>(() => new TensorNode(new TensorNodeOptions { MaxTensorBytes = -1 })).ParamName);
        Assert.Equal(nameof(TensorNodeOptions.ReceiveMemoryBudget),
            Assert.Throws<ArgumentOutOfRangeException>(() => new TensorNode(new TensorNodeOptions { ReceiveMemoryBudget = 0 })).ParamName);
        Assert.Equal(nameof(TensorNodeOptions.NativeReceiveThreshold),
            Assert.Throws<ArgumentOutOfRangeException>(() => new TensorNode(new TensorNodeOptions { NativeReceiveThreshold = -1 })).ParamName);
    }

    [Fact]
    public void Validation_RefusesANegativeReceiveBufferRetention_AndANonPositiveLifetime()
    {
        Assert.Null(new TensorNode(new TensorNodeOptions { ReceiveBufferRetention = 0 }).ReceiveBuffers); // keep none
        Assert.Equal(nameof(TensorNodeOptions.ReceiveBufferRetention),
            Assert.Throws<ArgumentOutOfRangeException>(() => new TensorNode(new TensorNodeOptions { ReceiveBufferRetention = -1 })).ParamName);
        Assert.Equal(nameof(TensorNodeOptions.ReceiveBufferLifetime),
            Assert.Throws<ArgumentOutOfRangeException>(() => new TensorNode(new TensorNodeOptions { ReceiveBufferLifetime = TimeSpan.Zero })).ParamName);
        Assert.Equal(nameof(TensorNodeOptions.ReceiveBufferLifetime), // a timer cannot wait longer than ~49 days
            Assert.Throws<ArgumentOutOfRangeException>(() => new TensorNode(new TensorNodeOptions { ReceiveBufferLifetime = TimeSpan.FromDays(50) })).ParamName);
        // Kept memory never exceeds the receive budget.
        Assert.Equal(1 << 20, new TensorNode(new TensorNodeOptions { ReceiveMemoryBudget = 1 << 20 }).ReceiveBuffers!.Capacity);
    }

    [Fact]
    public void Validation_RefusesARequestTimeoutAboveADay_AndNoTransferDeadlineOverflows()
    {
        Assert.Equal(nameof(TensorNodeOptions.RequestTimeout), // CancelAfter throws beyond ~49 days; a day is plenty
            Assert.Throws<ArgumentOutOfRangeException>(() => new TensorNode(new TensorNodeOptions { RequestTimeout = TimeSpan.FromDays(2) })).ParamName);
        _ = new TensorNode(new TensorNodeOptions { RequestTimeout = TimeSpan.FromDays(1) });

        // The request timeout plus the size at MinTransferRate, capped: a peer announcing the largest payload cannot make a timer throw.
        Assert.Equal(TimeSpan.FromSeconds(32), TensorNode.TransferDeadline(TimeSpan.FromSeconds(30), 2 << 20, 1 << 20));
        Assert.Equal(TimeSpan.FromDays(30), TensorNode.TransferDeadline(TimeSpan.FromDays(1), long.MaxValue, 1024));
        using var timer = new CancellationTokenSource();
        timer.CancelAfter(TensorNode.TransferDeadline(TimeSpan.FromDays(1), long.MaxValue, 1024));
    }

    [Fact]
    public void Validation_RefusesAnAlpnLongerThan31Bytes()
    {
        Assert.Equal(nameof(TensorNodeOptions.ApplicationProtocol),
            Assert.Throws<ArgumentException>(() => new TensorNode(new TensorNodeOptions { ApplicationProtocol = new string('a', 32) })).ParamName);
        _ = new TensorNode(new TensorNodeOptions { ApplicationProtocol = new string('a', 31) });
    }
}
