enum TestbedPlaceholder {}
