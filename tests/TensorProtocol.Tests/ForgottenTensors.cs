namespace TensorProtocol.Tests;

/// <summary>
/// Tensors other tests dropped without disposing still hold native memory until their finalizers run — at a
/// collection that may come in the middle of a measurement (a large native allocation can itself trigger one). Tests
/// that read the process-wide count of mapped bytes run these first.
/// </summary>
internal static class ForgottenTensors
{
    public static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
