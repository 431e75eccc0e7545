"""
The article's experiment, on 30 seeds at once
=============================================

The article trains one 2-10-10-1 ReLU network on two moons and prints one accuracy. One
seed says little: here 30 members train at once, and we look at the spread.
"""

# %%
# Train 30 members with the article's settings (Adam, lr 0.01, batch 32, 100 epochs).
import whydl

result = whydl.train("moons", hidden=(10, 10), optimizer="adam", lr=0.01, epochs=100, seeds=30)
print(result.summary())

# %%
# The figure: the ensemble's mean probability with the 0.5 contour, and the loss curves as a
# median with a 10-90% band over seeds.
fig = result.plot()

# %%
# Any member is a plain PyTorch module.
net = result.member(0)
print(net)
